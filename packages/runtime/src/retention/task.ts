import { defineTask, done, TaskError } from '@jetcel/core';
import { pruneRetention, type Db, type PruneOptions, type PruneReport, type RetentionPolicy } from '@jetcel/db';

/** The framework's retention task, scheduled by beat; one run at a time. */
export const PRUNE_TASK = 'jetcel.prune';

/** Deletes the rows past their retention: bound to the worker's database and configured policy. */
export interface RetentionPruner {
  readonly policy: RetentionPolicy;
  prune(signal: AbortSignal): Promise<PruneReport>;
}

/** What `jetcel.prune` needs among a worker's services. */
export interface RetentionServices {
  retention: RetentionPruner;
}

export function retentionPruner(
  db: Db,
  policy: RetentionPolicy,
  options: Omit<PruneOptions, 'signal'> = {},
): RetentionPruner {
  return { policy, prune: (signal) => pruneRetention(db, policy, { ...options, signal }) };
}

/**
 * Prunes published outbox rows, finished executions (with their steps), re-driven dead letters,
 * idempotency keys and beat ticks past their retention, in bounded batches within a time budget,
 * and logs the counts (and the dead letters kept because never re-driven). A failure is not
 * retried: the next tick runs it again.
 */
export const pruneTask = defineTask<unknown, Partial<RetentionServices>>({
  name: PRUNE_TASK,
  queue: 'background',
  equality: 'name',
  sideEffects: false,
  retry: { maxAttempts: 1 },
  async run(ctx) {
    const pruner = ctx.services.retention;
    if (!pruner) throw new TaskError(`${PRUNE_TASK} needs a "retention" service (retentionPruner) on the worker`);
    const report = await pruner.prune(ctx.signal);
    const { counts, complete, deadLettersKept, tookMs } = report;
    ctx.log.info('retention pruned', { ...counts, complete, deadLettersKept, tookMs });
    if (deadLettersKept > 0)
      ctx.log.warn('dead letters past their retention are kept until re-driven', { deadLettersKept });
    return done(undefined, { ...counts, complete, deadLettersKept });
  },
});
