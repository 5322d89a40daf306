import type { CommandSpec } from '../spec.ts';
import { deadLettersListCommand, deadLettersRedriveCommand } from './dead-letters.ts';
import { cancelCommand, executionsListCommand, executionsShowCommand } from './executions.ts';
import { leasesCommand, queuesCommand, schedulesCommand } from './operator-views.ts';
import { resourcesCommand } from './resources.ts';
import { sendCommand } from './send.ts';
import { tailCommand } from './tail.ts';
import { tokenCommand } from './token.ts';

/** Every subcommand, in the order `jetcel --help` lists them. */
export const COMMANDS: readonly CommandSpec[] = [
  sendCommand,
  executionsListCommand,
  executionsShowCommand,
  cancelCommand,
  resourcesCommand,
  queuesCommand,
  leasesCommand,
  schedulesCommand,
  deadLettersListCommand,
  deadLettersRedriveCommand,
  tailCommand,
  tokenCommand,
];
