import type { JetcelClient } from '@jetcel/client';
import type { ExitCode } from './exit-codes.ts';

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
  /** "--status S   only executions in this status" */
  help: string;
}

export type OptionValues = Record<string, string | boolean | string[] | undefined>;

/** Where a subcommand writes: stdout for results, stderr for progress and errors. */
export interface Output {
  out(line: string): void;
  err(line: string): void;
}

export interface RunContext {
  values: OptionValues;
  /** Positional arguments after the subcommand's words. */
  args: string[];
  json: boolean;
  output: Output;
  env: NodeJS.ProcessEnv;
  /** Aborted on SIGINT / SIGTERM. */
  signal: AbortSignal;
  /** The connected client (connects on first use). */
  client(): Promise<JetcelClient>;
}

export interface CommandSpec {
  /** One or two words: "queues", "executions list". */
  name: string;
  /** Arguments after the name, for help: "<subject> <json>". */
  argsUsage?: string;
  summary: string;
  options?: Record<string, OptionSpec>;
  positionals?: { min: number; max: number };
  run(context: RunContext): Promise<ExitCode>;
}

/** Prints the result: `data` as one JSON document with --json, else the human rendering. */
export function emit(context: RunContext, data: unknown, human: () => string): void {
  context.output.out(context.json ? JSON.stringify(data) : human());
}
