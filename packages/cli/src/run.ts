import { JetcelClient } from '@jetcel/client';
import { COMMANDS } from './commands/index.ts';
import { EXIT, describeError, exitCodeOf, type ExitCode } from './exit-codes.ts';
import { clientOptions } from './global-options.ts';
import { commandHelp, mainHelp } from './help.ts';
import { parseCommandLine } from './parse.ts';
import type { Output } from './spec.ts';

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  output?: Output;
  signal?: AbortSignal;
}

const consoleOutput: Output = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

/** Runs one command line and returns the exit code; never throws. */
export async function runCli(argv: string[], options: RunOptions = {}): Promise<ExitCode> {
  const output = options.output ?? consoleOutput;
  const env = options.env ?? process.env;
  let json = argv.includes('--json');
  let client: Promise<JetcelClient> | undefined;
  try {
    const { command, values, args } = parseCommandLine(COMMANDS, argv);
    json = values.json === true;
    if (!command) {
      if (values.help || args.length > 0 || argv.includes('help')) {
        output.out(mainHelp(COMMANDS));
        return EXIT.ok;
      }
      output.err(mainHelp(COMMANDS));
      return EXIT.usage;
    }
    if (values.help) {
      output.out(commandHelp(command));
      return EXIT.ok;
    }
    const connectOptions = clientOptions(values, env);
    return await command.run({
      values,
      args,
      json,
      output,
      env,
      signal: options.signal ?? new AbortController().signal,
      client: () => (client ??= JetcelClient.connect(connectOptions)),
    });
  } catch (error) {
    const { json: body, line } = describeError(error);
    if (json) output.out(JSON.stringify({ ok: false, error: body }));
    output.err(`jetcel: ${line}`);
    return exitCodeOf(error);
  } finally {
    if (client) await client.then((connected) => connected.close()).catch(() => {});
  }
}
