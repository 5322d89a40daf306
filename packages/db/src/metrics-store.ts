import { RetentionStore, type RetentionPolicy, type RowCounts } from './retention-store.ts';
import { sql, type SqlRunner } from './sql.ts';

/** What the database says about the whole deployment right now: sampled for gauges, never written. */
export interface DatabaseSnapshot {
  rows: RowCounts;
  outbox: {
    /** Unpublished rows whose time has come: the relay's backlog. */
    due: number;
    /** Unpublished rows waiting for their not_before (poll, retry and throttle timers). */
    scheduled: number;
    /** Age of the oldest due unpublished row, 0 when none. */
    oldestDueSeconds: number;
  };
  /** Per queue: steps due and not yet claimed, and how long the oldest has waited. */
  queues: Array<{ queue: string; due: number; oldestDueSeconds: number }>;
  /** Per throttle kind: live scope leases and executions waiting for a slot. */
  throttle: Array<{ kind: string; leases: number; waiters: number }>;
  /** Dead letters by reason (empty while the table does not exist). */
  deadLetters: Array<{ reason: string; count: number }>;
  /** Dead letters past their retention kept because nobody re-drove them (0 without a policy). */
  deadLettersKept: number;
}

/** Reads a DatabaseSnapshot: a handful of counts over indexed columns of tables retention keeps small. */
export class MetricsStore {
  constructor(private readonly em: SqlRunner) {}

  /** `retention`: the deployment's policy, to count the dead letters kept past it. */
  async snapshot(retention?: Pick<RetentionPolicy, 'deadLettersMs'>): Promise<DatabaseSnapshot> {
    const store = new RetentionStore(this.em);
    const [outbox] = await sql<{ due: string; scheduled: string; oldest: number | null }>(
      this.em,
      `select count(*) filter (where not_before <= now()) as due,
              count(*) filter (where not_before > now()) as scheduled,
              extract(epoch from now() - min(not_before) filter (where not_before <= now()))::float8 as oldest
       from jetcel_outbox where published_at is null`,
    );
    const queues = await sql<{ queue: string; due: string; oldest: number | null }>(
      this.em,
      `select queue, count(*) as due, extract(epoch from now() - min(not_before))::float8 as oldest
       from jetcel_step where status = 'queued' and not_before <= now() group by queue`,
    );
    const throttle = await sql<{ kind: string; leases: string; waiters: string }>(
      this.em,
      `select kind, sum(leases) as leases, sum(waiters) as waiters from (
         select lease->>'kind' as kind, count(*) as leases, 0 as waiters from jetcel_execution
           where lease is not null and status in ('running', 'cancel_requested') group by 1
         union all
         select kind, 0, count(*) from jetcel_throttle_waiter group by 1) t
       group by kind`,
    );
    const deadLetters = (await store.hasDeadLetters())
      ? await sql<{ reason: string; n: string }>(
          this.em,
          'select reason, count(*) as n from jetcel_dead_letter group by 1',
        )
      : [];
    return {
      rows: await store.rowCounts(),
      outbox: {
        due: Number(outbox?.due ?? 0),
        scheduled: Number(outbox?.scheduled ?? 0),
        oldestDueSeconds: Math.max(0, outbox?.oldest ?? 0),
      },
      queues: queues.map((row) => ({
        queue: row.queue,
        due: Number(row.due),
        oldestDueSeconds: Math.max(0, row.oldest ?? 0),
      })),
      throttle: throttle.map((row) => ({ kind: row.kind, leases: Number(row.leases), waiters: Number(row.waiters) })),
      deadLetters: deadLetters.map((row) => ({ reason: row.reason, count: Number(row.n) })),
      deadLettersKept: retention ? await store.deadLettersKept(retention.deadLettersMs) : 0,
    };
  }
}
