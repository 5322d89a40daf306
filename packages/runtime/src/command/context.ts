import type { Tx } from '@jetcel/db';
import type { CommandContext } from './commands.ts';
import { cancelExecution } from '../execution/cancel.ts';
import { authorizeExecutor, type Caller } from './identity.ts';
import type { Progress } from '../execution/progress.ts';
import { readAccess, type ReadPolicy } from './read-policy.ts';
import { scheduleExecution } from '../execution/schedule.ts';

/** The context of one command or query: every schedule is authorized for its caller first. */
export function commandContext(
  tx: Tx,
  subject: string,
  caller: Caller,
  progress: Progress,
  readPolicy: ReadPolicy,
): CommandContext {
  const authorize: CommandContext['authorize'] = (executor, resource) => authorizeExecutor(caller, executor, resource);
  return {
    tx,
    subject,
    identity: caller,
    actor: caller.actor,
    read: readAccess(caller, readPolicy),
    authorize,
    async schedule(executor, resource, params) {
      await authorize(executor, resource);
      return scheduleExecution(tx, progress, executor, { resource, params, actor: caller.actor });
    },
    cancelExecution: (id) => cancelExecution(tx, progress, id),
  };
}
