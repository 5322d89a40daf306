import { GLOBAL_OPTIONS } from './global-options.ts';
import type { CommandSpec, OptionSpec } from './spec.ts';

const optionLines = (options: Record<string, OptionSpec>): string[] =>
  Object.entries(options).map(([name, option]) => {
    const flag = `${option.short ? `-${option.short}, ` : ''}--${name}${option.type === 'string' ? ' <value>' : ''}`;
    return `  ${flag.padEnd(30)} ${option.help}`;
  });

export const EXIT_CODES_HELP = [
  'exit codes:',
  '  0  success (a followed execution succeeded)',
  '  1  the operation failed: an error reply (NOT_FOUND, VALIDATION_FAILED, INVALID_STATE, ...),',
  '     or a followed execution failed or was cancelled',
  '  2  usage error: unknown subcommand or flag, bad JSON, missing argument (nothing was sent)',
  '  3  unavailable: cannot connect, no responders, timeout, or an UNAVAILABLE reply (retry later)',
];

export function commandUsage(command: CommandSpec): string {
  return `jetcel ${command.name}${command.argsUsage ? ` ${command.argsUsage}` : ''}${command.options ? ' [options]' : ''}`;
}

export function mainHelp(commands: readonly CommandSpec[]): string {
  const width = Math.max(...commands.map((command) => commandUsage(command).length)) - 'jetcel '.length;
  return [
    'jetcel: operate jetcel from a terminal (commands, executions, queues, leases, schedules, events)',
    '',
    'usage: jetcel [global options] <subcommand> [arguments] [options]',
    '',
    'subcommands:',
    ...commands.map(
      (command) => `  ${commandUsage(command).slice('jetcel '.length).padEnd(width)}  ${command.summary}`,
    ),
    '',
    'global options:',
    ...optionLines(GLOBAL_OPTIONS),
    '',
    'environment: NATS_URL, NATS_USER, NATS_PASS, JETCEL_TOKEN; JETCEL_AUTH_SECRET(S) for `jetcel token`',
    '',
    ...EXIT_CODES_HELP,
    '',
    'Run `jetcel <subcommand> --help` for its options.',
  ].join('\n');
}

export function commandHelp(command: CommandSpec): string {
  return [
    `usage: ${commandUsage(command)}`,
    '',
    command.summary,
    ...(command.options ? ['', 'options:', ...optionLines(command.options)] : []),
    '',
    'global options:',
    ...optionLines(GLOBAL_OPTIONS),
    '',
    ...EXIT_CODES_HELP,
  ].join('\n');
}
