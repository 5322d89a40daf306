import type { Db } from './db.ts';
import type { PruneCounts, PrunedByAge, RetentionPolicy } from './retention-store.ts';
import type { Tx } from './tx.ts';

export interface PruneOptions {
  /** Rows deleted per statement (and per transaction). @defaultValue 5000 */
  batchSize?: number;
  /** Stop starting new batches after this long; the next run carries on. @defaultValue 30000 */
  budgetMs?: number;
  /** Stops between batches (shutdown, a lost claim). */
  signal?: AbortSignal;
}

export interface PruneReport {
  counts: PruneCounts;
  /** False when the budget ran out or the signal fired with prunable rows possibly left. */
  complete: boolean;
  /** Dead letters past their retention that were kept because nobody re-drove them. */
  deadLettersKept: number;
  tookMs: number;
}

type Pruner = (tx: Tx, policy: RetentionPolicy, limit: number) => Promise<{ deleted: number; steps?: number }>;

const byAge =
  (kind: PrunedByAge, retention: keyof RetentionPolicy): Pruner =>
  async (tx, policy, limit) => ({ deleted: await tx.retention.pruneByAge(kind, policy[retention], limit) });

/** One bounded statement per kind of row; each returns the rows it deleted (and steps, by cascade). */
const PRUNERS: Array<{ key: Exclude<keyof PruneCounts, 'steps'>; run: Pruner }> = [
  { key: 'outbox', run: byAge('outbox', 'outboxMs') },
  {
    key: 'executions',
    run: async (tx, policy, limit) => {
      const { executions, steps } = await tx.retention.pruneExecutions(policy.executionsMs, limit);
      return { deleted: executions, steps };
    },
  },
  { key: 'deadLetters', run: byAge('deadLetters', 'deadLettersMs') },
  { key: 'idempotencyKeys', run: byAge('idempotencyKeys', 'idempotencyMs') },
  { key: 'scheduleTicks', run: byAge('scheduleTicks', 'ticksMs') },
];

/**
 * Prunes every kind of row past its retention in bounded batches, each its own short
 * transaction, so no lock is held long and vacuum can follow; stops at the time budget.
 */
export async function pruneRetention(
  db: Db,
  policy: RetentionPolicy,
  options: PruneOptions = {},
): Promise<PruneReport> {
  const batchSize = options.batchSize ?? 5000;
  const started = Date.now();
  const deadline = started + (options.budgetMs ?? 30_000);
  const counts: PruneCounts = {
    outbox: 0,
    executions: 0,
    steps: 0,
    deadLetters: 0,
    idempotencyKeys: 0,
    scheduleTicks: 0,
  };
  const outOfTime = (): boolean => Date.now() >= deadline || options.signal?.aborted === true;
  let complete = true;
  for (const pruner of PRUNERS) {
    for (;;) {
      if (outOfTime()) {
        complete = false;
        break;
      }
      const { deleted, steps } = await db.transaction((tx) => pruner.run(tx, policy, batchSize));
      counts[pruner.key] += deleted;
      counts.steps += steps ?? 0;
      if (deleted < batchSize) break;
    }
  }
  const deadLettersKept = await db.transaction((tx) => tx.retention.deadLettersKept(policy.deadLettersMs));
  return { counts, complete, deadLettersKept, tookMs: Date.now() - started };
}
