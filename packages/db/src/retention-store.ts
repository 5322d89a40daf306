import { EXECUTION_STATUSES, type ExecutionStatus } from './entities/execution.ts';
import { sql, type SqlRunner } from './sql.ts';

/** How long each kind of row is kept, in milliseconds. */
export interface RetentionPolicy {
  /** Published outbox rows, counted from `published_at`. Unpublished rows are never pruned. */
  outboxMs: number;
  /** Finished executions (succeeded, failed, cancelled), from `finished_at`; steps and groups cascade. */
  executionsMs: number;
  /**
   * Re-driven dead letters, from `redriven_at` (only when the table exists). A dead letter never
   * re-driven is never pruned: it is counted (`deadLettersKept`) instead.
   */
  deadLettersMs: number;
  /** Idempotency keys, from `created_at`: a command retried later than this runs again. */
  idempotencyMs: number;
  /** Beat ticks, from `created_at`; the latest tick of each schedule is always kept. */
  ticksMs: number;
}

/** Rows deleted, per table (`steps` went by cascade with their executions). */
export interface PruneCounts {
  outbox: number;
  executions: number;
  steps: number;
  deadLetters: number;
  idempotencyKeys: number;
  scheduleTicks: number;
}

/** Current row counts of jetcel's growing tables; `deadLetters` is null while that table does not exist. */
export interface RowCounts {
  outbox: { total: number; unpublished: number };
  executions: { total: number; byStatus: Record<ExecutionStatus, number> };
  steps: number;
  deadLetters: number | null;
  idempotencyKeys: number;
  scheduleTicks: number;
  backgroundRuns: number;
}

const FINISHED = "('succeeded', 'failed', 'cancelled')";
const LIVE = "('running', 'cancel_requested')";
const OLDER_THAN = "now() - (? * interval '1 millisecond')";

/**
 * The tables pruned by age alone: the column a row's age is read from, and the key it is deleted
 * by (`ctid` where the key is composite). A row whose age column is null is never pruned: an
 * unpublished outbox row, a dead letter nobody re-drove (deleting it would lose the work).
 */
const PRUNED_BY_AGE = {
  outbox: { table: 'jetcel_outbox', key: 'id', age: 'published_at', keep: null },
  deadLetters: { table: 'jetcel_dead_letter', key: 'id', age: 'redriven_at', keep: null },
  idempotencyKeys: { table: 'jetcel_idempotency_key', key: 'ctid', age: 'created_at', keep: null },
  // Each schedule's latest tick stays: were it gone, a beat starting afresh would insert the current tick again and publish it twice.
  scheduleTicks: {
    table: 'jetcel_schedule_tick',
    key: 'ctid',
    age: 'created_at',
    keep: 'exists (select 1 from jetcel_schedule_tick n where n.schedule = t.schedule and n.tick > t.tick)',
  },
} as const;

/** The kinds of row `pruneByAge` deletes. */
export type PrunedByAge = keyof typeof PRUNED_BY_AGE;

/**
 * Retention: each prune method deletes at most `limit` of the oldest prunable rows in one
 * statement and returns how many went; `pruneRetention` loops them in short transactions. Rows are
 * picked through an index (m006) and deleted by key (`= any(array(...))`, by `ctid` where the key
 * is composite), so a batch costs the same however large the table.
 */
export class RetentionStore {
  constructor(private readonly em: SqlRunner) {}

  /**
   * Finished executions that finished more than `olderThanMs` ago; their steps, groups and waiters
   * go by cascade. An execution nested in a live one, or with a live nested execution, stays until
   * its whole tree has finished. Rows locked by someone else are skipped (the next round takes them).
   */
  async pruneExecutions(olderThanMs: number, limit: number): Promise<{ executions: number; steps: number }> {
    const rows = await sql<{ executions: string; steps: string }>(
      this.em,
      `with doomed as (
         select e.id from jetcel_execution e
         where e.status in ${FINISHED} and e.finished_at < ${OLDER_THAN}
           and not exists (
             select 1 from jetcel_step s join jetcel_execution c on c.parent_step_id = s.id
             where s.execution_id = e.id and c.status in ${LIVE})
           and not exists (
             select 1 from jetcel_step ps join jetcel_execution p on p.id = ps.execution_id
             where ps.id = e.parent_step_id and p.status in ${LIVE})
         order by e.finished_at limit ?
         for update of e skip locked),
       gone as (delete from jetcel_execution where id = any(array(select id from doomed)) returning id)
       select (select count(*) from gone) as executions,
              (select count(*) from jetcel_step where execution_id in (select id from gone)) as steps`,
      [olderThanMs, limit],
    );
    return { executions: Number(rows[0]?.executions ?? 0), steps: Number(rows[0]?.steps ?? 0) };
  }

  /**
   * At most `limit` of the oldest rows of one table pruned by age alone, older than `olderThanMs`
   * (see `PRUNED_BY_AGE`); 0 for the dead letters while their table does not exist.
   */
  async pruneByAge(kind: PrunedByAge, olderThanMs: number, limit: number): Promise<number> {
    if (kind === 'deadLetters' && !(await this.hasDeadLetters())) return 0;
    const { table, key, age, keep } = PRUNED_BY_AGE[kind];
    return this.count(
      `with gone as (
         delete from ${table} where ${key} = any(array(
           select t.${key} from ${table} t
           where t.${age} < ${OLDER_THAN}${keep ? ` and ${keep}` : ''}
           order by t.${age} limit ?))
         returning 1)
       select count(*) as n from gone`,
      [olderThanMs, limit],
    );
  }

  /** Dead letters older than `olderThanMs` kept because nobody re-drove them; 0 without the table. */
  async deadLettersKept(olderThanMs: number): Promise<number> {
    if (!(await this.hasDeadLetters())) return 0;
    return this.count(
      `select count(*) as n from jetcel_dead_letter where redriven_at is null and created_at < ${OLDER_THAN}`,
      [olderThanMs],
    );
  }

  /** Whether the dead-letter table exists yet (it comes with a later migration). */
  async hasDeadLetters(): Promise<boolean> {
    const rows = await sql<{ present: boolean }>(
      this.em,
      "select to_regclass('jetcel_dead_letter') is not null as present",
    );
    return rows[0]?.present === true;
  }

  /**
   * Exact row counts. `count(*)` scans each table (an index-only scan at best), which is cheap while
   * retention keeps the tables small; at tens of millions of rows switch to `pg_class.reltuples`.
   */
  async rowCounts(): Promise<RowCounts> {
    const [totals] = await sql<Record<string, string>>(
      this.em,
      `select (select count(*) from jetcel_outbox) as outbox_total,
              (select count(*) from jetcel_outbox where published_at is null) as outbox_unpublished,
              (select count(*) from jetcel_step) as steps,
              (select count(*) from jetcel_idempotency_key) as idempotency_keys,
              (select count(*) from jetcel_schedule_tick) as schedule_ticks,
              (select count(*) from jetcel_background_run) as background_runs`,
    );
    const statuses = await sql<{ status: ExecutionStatus; n: string }>(
      this.em,
      'select status, count(*) as n from jetcel_execution group by status',
    );
    const byStatus = Object.fromEntries(EXECUTION_STATUSES.map((status) => [status, 0])) as Record<
      ExecutionStatus,
      number
    >;
    for (const row of statuses) byStatus[row.status] = Number(row.n);
    const deadLetters = (await this.hasDeadLetters())
      ? await this.count('select count(*) as n from jetcel_dead_letter')
      : null;
    return {
      outbox: { total: Number(totals?.outbox_total ?? 0), unpublished: Number(totals?.outbox_unpublished ?? 0) },
      executions: { total: Object.values(byStatus).reduce((sum, n) => sum + n, 0), byStatus },
      steps: Number(totals?.steps ?? 0),
      deadLetters,
      idempotencyKeys: Number(totals?.idempotency_keys ?? 0),
      scheduleTicks: Number(totals?.schedule_ticks ?? 0),
      backgroundRuns: Number(totals?.background_runs ?? 0),
    };
  }

  /** Runs a statement answering one `n` (a bigint, which the driver hands back as a string). */
  private async count(text: string, params: unknown[] = []): Promise<number> {
    const rows = await sql<{ n: string }>(this.em, text, params);
    return Number(rows[0]?.n ?? 0);
  }
}
