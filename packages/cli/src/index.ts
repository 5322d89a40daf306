export { runCli } from './run.ts';
export type { RunOptions } from './run.ts';
export { EXIT, UsageError, exitCodeOf } from './exit-codes.ts';
export type { ExitCode } from './exit-codes.ts';
export { COMMANDS } from './commands/index.ts';
export { renderTable } from './table.ts';
