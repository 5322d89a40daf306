import type { Tx } from '@jetcel/db';
import type { CommandContext } from './commands.ts';
import { cancelExecution } from '../execution/cancel.ts';
import { authorizeExecutor, type Caller } from './identity.ts';
import type { Progress } from '../execution/progress.ts';
import { readAccess, type ReadPolicy } from './read-policy.ts';
import { scheduleExecution, scheduleExecutions } from '../execution/schedule.ts';
import type { TaskCatalog } from '../execution/queue-step.ts';
import { enqueueBackground } from '../background/enqueue.ts';
import { domainAccess } from '../execution/domain-access.ts';

// The transaction behind a context, for the framework's own commands and queries only (never exported).
const transactions = new WeakMap<CommandContext, Tx>();

/** The context of one command or query: every schedule is authorized for its caller first. */
export function commandContext(
  tx: Tx,
  subject: string,
  caller: Caller,
  progress: Progress,
  readPolicy: ReadPolicy,
  catalog: TaskCatalog,
): CommandContext {
  const authorize: CommandContext['authorize'] = (executor, resource) => authorizeExecutor(caller, executor, resource);
  const context: CommandContext = {
    subject,
    identity: caller,
    actor: caller.actor,
    read: readAccess(caller, readPolicy),
    // Bound methods, not the store: nothing else of the transaction is reachable from the context.
    ...domainAccess(tx),
    authorize,
    async schedule(executor, resource, params, options) {
      await authorize(executor, resource);
      return scheduleExecution(tx, progress, executor, {
        resource,
        params,
        actor: caller.actor,
        heavy: options?.heavy === true,
      });
    },
    async scheduleMany(executor, items, options) {
      // Every item first: one refusal refuses the call before anything is written.
      for (const item of items) await authorize(executor, item.resource);
      return scheduleExecutions(
        tx,
        progress,
        executor,
        items.map((item) => ({ ...item, actor: caller.actor })),
        { heavy: options?.heavy === true },
      );
    },
    cancel: (executionId) => cancelExecution(tx, progress, executionId),
    enqueue: (request) => enqueueBackground(tx, catalog, request),
  };
  transactions.set(context, tx);
  return context;
}

/** The framework's stores behind a command's context: for jetcel's own commands and queries (executions, dead letters, operators). */
export function frameworkTx(context: CommandContext): Tx {
  const tx = transactions.get(context);
  if (!tx) throw new TypeError('Not a context the dispatcher made');
  return tx;
}
