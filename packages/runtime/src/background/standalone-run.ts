import type { BackgroundMessage } from '@jetcel/contracts';
import type { Delivery, Disposition } from '@jetcel/bus';
import { describeFailure, type Logger, type TaskDefinition } from '@jetcel/core';
import { commitBackgroundOutcome, writesNothing } from './commit.ts';
import { backgroundContext, loadResource, type BackgroundEnv } from './context.ts';
import { RunControl } from '../run/run-control.ts';
import { runTask } from '../run/run-task.ts';

/**
 * A standalone task (no run row): no claim, no equality; it runs at least once and a failure is
 * logged, not retried. Its message's own heartbeat is all it needs: the run registers no beat.
 */
export async function runStandalone<S>(
  env: BackgroundEnv<S>,
  task: TaskDefinition<unknown, S>,
  message: BackgroundMessage,
  delivery: Delivery,
  run: { msgId: string; actor: string | null; log: Logger },
): Promise<Disposition> {
  const { actor, log } = run;
  const loaded = await loadResource(env.db, message.resource);
  if (loaded.kind === 'gone') {
    log.info('standalone task skipped: its resource no longer exists');
    return { kind: 'ack' };
  }
  const result = await runTask(
    task,
    {
      ...backgroundContext(env, loaded.resource, actor, log),
      attempt: delivery.deliveryCount,
      idempotencyKey: `standalone:${run.msgId}`,
    },
    { args: message.args, controller: new RunControl(), heartbeat: () => working(delivery) },
  );
  if (result.kind === 'error') {
    log.error('standalone task failed; it is not retried', { error: describeFailure(result.error).message });
    return { kind: 'ack' };
  }
  if (writesNothing(result.outcome)) {
    // Nothing to write: no transaction at all (the task path of a no-op or a pure side effect).
    log.info('standalone task finished', NOTHING_WRITTEN);
    return { kind: 'ack' };
  }
  try {
    const summary = await env.db.transaction((tx) =>
      commitBackgroundOutcome(tx, env.deps, { outcome: result.outcome, resource: loaded.resource, actor, log }),
    );
    log.info('standalone task finished', { ...summary });
  } catch (error) {
    log.error('standalone task outcome not written', { error: describeFailure(error).message });
  }
  return { kind: 'ack' };
}

const NOTHING_WRITTEN = { patched: 0, enqueued: 0, skipped: 0, cancelled: 0 };

/** A standalone task's `ctx.heartbeat()`: its message is all there is to keep alive. */
function working(delivery: Delivery): Promise<void> {
  delivery.working();
  return Promise.resolve();
}
