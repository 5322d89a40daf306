import { parseArgs } from 'node:util';
import { UsageError } from './exit-codes.ts';
import { GLOBAL_OPTIONS } from './global-options.ts';
import type { CommandSpec, OptionSpec, OptionValues } from './spec.ts';

export interface ParsedLine {
  command: CommandSpec | null;
  values: OptionValues;
  args: string[];
}

/** Every option any subcommand knows: parsed at once, then checked against the chosen subcommand. */
function allOptions(commands: readonly CommandSpec[]): Record<string, OptionSpec> {
  const options: Record<string, OptionSpec> = { ...GLOBAL_OPTIONS };
  for (const command of commands) Object.assign(options, command.options ?? {});
  return options;
}

function findCommand(commands: readonly CommandSpec[], positionals: string[]): CommandSpec | null {
  const two = positionals.slice(0, 2).join(' ');
  return (
    commands.find((command) => command.name === two) ??
    commands.find((command) => command.name === positionals[0]) ??
    null
  );
}

/** Parses a command line (without node and the script); throws UsageError for anything wrong. */
export function parseCommandLine(commands: readonly CommandSpec[], argv: string[]): ParsedLine {
  let parsed: { values: OptionValues; positionals: string[] };
  try {
    parsed = parseArgs({ args: argv, options: allOptions(commands), allowPositionals: true, strict: true }) as {
      values: OptionValues;
      positionals: string[];
    };
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (positionals.length === 0 || positionals[0] === 'help')
    return { command: null, values, args: positionals.slice(1) };
  const command = findCommand(commands, positionals);
  if (!command) throw new UsageError(`Unknown subcommand "${positionals.slice(0, 2).join(' ')}" (see jetcel --help)`);
  const own = command.options ?? {};
  for (const name of Object.keys(values))
    if (!(name in GLOBAL_OPTIONS) && !(name in own))
      throw new UsageError(`--${name} is not an option of "jetcel ${command.name}"`);
  const args = positionals.slice(command.name.split(' ').length);
  const { min, max } = command.positionals ?? { min: 0, max: 0 };
  if (!values.help && (args.length < min || args.length > max))
    throw new UsageError(
      `"jetcel ${command.name}" takes ${min === max ? min : `${min} to ${max}`} argument(s)${command.argsUsage ? `: ${command.argsUsage}` : ''}, got ${args.length}`,
    );
  return { command, values, args };
}
