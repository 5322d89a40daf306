import { Gauge, type Registry } from 'prom-client';
import type { DatabaseSnapshot } from '@jetcel/db';

export interface DatabaseGaugeOptions {
  /** Reads the snapshot (one short read-only transaction). */
  sample: () => Promise<DatabaseSnapshot>;
  /** Scrapes closer together than this reuse the last snapshot. @defaultValue 5000 */
  minIntervalMs?: number;
  /** Told when a sample fails; the gauges then keep their last values. */
  onError?: (error: unknown) => void;
}

/**
 * Deployment-wide gauges read from PostgreSQL at scrape time: outbox backlog, due steps per queue,
 * live leases and waiters, dead letters, row counts. One service (the executor) registers them, so
 * a deployment reports each series once.
 */
export function registerDatabaseGauges(registry: Registry, options: DatabaseGaugeOptions): void {
  const minIntervalMs = options.minIntervalMs ?? 5000;
  // One sample feeds every gauge of a scrape (they collect concurrently), and close scrapes share it.
  let last: { at: number; settled: boolean; snapshot: Promise<DatabaseSnapshot | null> } | undefined;
  const current = (): Promise<DatabaseSnapshot | null> => {
    if (last && (!last.settled || Date.now() - last.at < minIntervalMs)) return last.snapshot;
    const entry: NonNullable<typeof last> = { at: Date.now(), settled: false, snapshot: Promise.resolve(null) };
    entry.snapshot = options
      .sample()
      .catch((error: unknown) => {
        options.onError?.(error);
        return null;
      })
      .finally(() => {
        entry.settled = true;
        entry.at = Date.now();
      });
    last = entry;
    return entry.snapshot;
  };
  const gauge = <L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[],
    fill: (gauge: Gauge<L>, snapshot: DatabaseSnapshot) => void,
  ): void => {
    new Gauge<L>({
      name,
      help,
      labelNames,
      registers: [registry],
      async collect() {
        const snapshot = await current();
        if (!snapshot) return;
        this.reset();
        fill(this, snapshot);
      },
    });
  };
  gauge('jetcel_outbox_backlog', 'Unpublished outbox rows that are due: the relay backlog.', [], (g, s) =>
    g.set(s.outbox.due),
  );
  gauge(
    'jetcel_outbox_scheduled',
    'Unpublished outbox rows waiting for their time (polls, retries, throttles).',
    [],
    (g, s) => g.set(s.outbox.scheduled),
  );
  gauge('jetcel_outbox_oldest_due_seconds', 'Age of the oldest due unpublished outbox row.', [], (g, s) =>
    g.set(s.outbox.oldestDueSeconds),
  );
  gauge('jetcel_queue_due_steps', 'Steps due and not yet claimed by a worker.', ['queue'], (g, s) => {
    for (const queue of s.queues) g.set({ queue: queue.queue }, queue.due);
  });
  gauge('jetcel_queue_oldest_due_seconds', 'How long the oldest due, unclaimed step has waited.', ['queue'], (g, s) => {
    for (const queue of s.queues) g.set({ queue: queue.queue }, queue.oldestDueSeconds);
  });
  gauge('jetcel_throttle_leases', 'Scope leases held by live executions.', ['kind'], (g, s) => {
    for (const row of s.throttle) g.set({ kind: row.kind }, row.leases);
  });
  gauge('jetcel_throttle_waiters', 'Executions waiting for a throttle slot.', ['kind'], (g, s) => {
    for (const row of s.throttle) g.set({ kind: row.kind }, row.waiters);
  });
  gauge('jetcel_dead_letters', 'Dead letters kept, by reason.', ['reason'], (g, s) => {
    for (const row of s.deadLetters) g.set({ reason: row.reason }, row.count);
  });
  gauge(
    'jetcel_dead_letters_kept',
    'Dead letters past their retention that retention keeps because nobody re-drove them.',
    [],
    (g, s) => g.set(s.deadLettersKept),
  );
  gauge('jetcel_rows', 'Rows in jetcel tables that retention prunes.', ['table'], (g, s) => {
    const { rows } = s;
    g.set({ table: 'outbox' }, rows.outbox.total);
    g.set({ table: 'executions' }, rows.executions.total);
    g.set({ table: 'steps' }, rows.steps);
    if (rows.deadLetters !== null) g.set({ table: 'dead_letters' }, rows.deadLetters);
    g.set({ table: 'idempotency_keys' }, rows.idempotencyKeys);
    g.set({ table: 'schedule_ticks' }, rows.scheduleTicks);
    g.set({ table: 'background_runs' }, rows.backgroundRuns);
  });
  gauge('jetcel_executions', 'Executions by status.', ['status'], (g, s) => {
    for (const [status, count] of Object.entries(s.rows.executions.byStatus)) g.set({ status }, count);
  });
}
