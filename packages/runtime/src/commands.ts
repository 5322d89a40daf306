import type { ArgsParser, ExecutorDefinition, JsonObject, ResourceSnapshot } from '@jetcel/core';
import type { ExecutionRecord, Tx } from '@jetcel/db';
import type { ScheduleResult } from './schedule.ts';

/** What a command handler may use: its transaction and the executor scheduler — no publisher. */
export interface CommandContext {
  tx: Tx;
  subject: string;
  actor: string | null;
  schedule<P extends JsonObject>(
    executor: ExecutorDefinition<P>,
    resource: ResourceSnapshot,
    params: P,
  ): Promise<ScheduleResult>;
  /** Requests the cancel of a running execution (SPEC B9). */
  cancelExecution(id: string): Promise<ExecutionRecord>;
}

export interface CommandDefinition<I = unknown> {
  /** Full subject, built with commandSubject()/querySubject() from contracts. */
  subject: string;
  kind: 'command' | 'query';
  input: ArgsParser<I>;
  handle(ctx: CommandContext, input: I): Promise<unknown>;
}

export function defineCommand<I>(definition: Omit<CommandDefinition<I>, 'kind'>): CommandDefinition<I> {
  return { ...definition, kind: 'command' };
}

export function defineQuery<I>(definition: Omit<CommandDefinition<I>, 'kind'>): CommandDefinition<I> {
  return { ...definition, kind: 'query' };
}
