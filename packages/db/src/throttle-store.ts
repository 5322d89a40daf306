import type { EntityManager } from '@mikro-orm/postgresql';
import { sql } from './sql.ts';
import { toDate, type ExecutionLease } from './records.ts';

/** A scope's configured limit (its own row, else the kind's `*` row); bindings: kind, scope. */
const LIMIT_FOR_SQL = `select "limit" from jetcel_throttle_limit where kind = ? and scope in (?, '*') order by (scope = '*') limit 1`;

export interface ThrottleLimitRow {
  kind: string;
  /** A scope id, or '*' for the kind's default. */
  scope: string;
  limit: number;
}

export interface Waiter {
  executionId: string;
  stepId: string;
  since: Date;
}

/** Throttle limits and the first-come waiting list of each (kind, scope). */
export class ThrottleStore {
  constructor(private readonly em: EntityManager) {}

  /** The limit for a scope: its own row, else the kind's '*' row, else the fallback. */
  async limitFor(kind: string, scope: string, fallback: number): Promise<number> {
    const rows = await sql<{ limit: number }>(this.em, LIMIT_FOR_SQL, [kind, scope]);
    return rows[0] ? Number(rows[0].limit) : fallback;
  }

  /** Every configured limit, by kind then scope. */
  async limits(): Promise<ThrottleLimitRow[]> {
    const rows = await sql<{ kind: string; scope: string; limit: number }>(
      this.em,
      'select kind, scope, "limit" from jetcel_throttle_limit order by kind, scope',
    );
    return rows.map((row) => ({ kind: row.kind, scope: row.scope, limit: Number(row.limit) }));
  }

  /** How many executions wait for a slot, per kind and scope. */
  async waiterCounts(): Promise<Array<{ kind: string; scope: string; waiting: number }>> {
    const rows = await sql<{ kind: string; scope: string; n: string }>(
      this.em,
      'select kind, scope, count(*) as n from jetcel_throttle_waiter group by kind, scope order by kind, scope',
    );
    return rows.map((row) => ({ kind: row.kind, scope: row.scope, waiting: Number(row.n) }));
  }

  async setLimit(kind: string, scope: string, limit: number): Promise<void> {
    await sql(
      this.em,
      `insert into jetcel_throttle_limit (kind, scope, "limit") values (?, ?, ?)
       on conflict (kind, scope) do update set "limit" = excluded."limit", updated_at = now()`,
      [kind, scope, limit],
    );
  }

  /** Joins the waiting list, keeping the first arrival time, which it answers. */
  async wait(kind: string, scope: string, executionId: string, stepId: string): Promise<{ since: Date }> {
    const rows = await sql<{ since: unknown }>(
      this.em,
      `insert into jetcel_throttle_waiter (execution_id, step_id, kind, scope) values (?, ?, ?, ?)
       on conflict (execution_id) do update set step_id = excluded.step_id returning since`,
      [executionId, stepId, kind, scope],
    );
    return { since: toDate(rows[0]?.since) };
  }

  /** How many executions wait ahead of this one (all waiters if it does not wait). */
  async ahead(kind: string, scope: string, executionId: string): Promise<number> {
    const rows = await sql<{ n: string }>(
      this.em,
      `select count(*) as n from jetcel_throttle_waiter w
       where w.kind = ? and w.scope = ? and w.execution_id <> ?
         and (not exists (select 1 from jetcel_throttle_waiter m where m.execution_id = ?)
              or (w.since, w.execution_id) < (select since, execution_id from jetcel_throttle_waiter m where m.execution_id = ?))`,
      [kind, scope, executionId, executionId, executionId],
    );
    return Number(rows[0]?.n ?? 0);
  }

  /** An admission in one statement: off the waiting list, the lease recorded on the execution. */
  async admit(executionId: string, lease: ExecutionLease): Promise<void> {
    await sql(
      this.em,
      `with left_list as (delete from jetcel_throttle_waiter where execution_id = ?)
       update jetcel_execution set lease = ?::jsonb, updated_at = now() where id = ?`,
      [executionId, JSON.stringify(lease), executionId],
    );
  }

  /** Takes an execution off the waiting list; false if it was not on it (admitted or gone meanwhile). */
  async take(executionId: string): Promise<boolean> {
    const rows = await sql(this.em, 'delete from jetcel_throttle_waiter where execution_id = ? returning 1 as taken', [
      executionId,
    ]);
    return rows.length > 0;
  }

  async leave(executionId: string): Promise<void> {
    await this.take(executionId);
  }

  /**
   * After a step of a lease holder committed: whether its main chain still has a step to run (the
   * throttled span goes on), who waits longest for the scope, and the scope's configured limit
   * (null: none configured). One round trip.
   */
  async spanState(
    executionId: string,
    kind: string,
    scope: string,
  ): Promise<{ mainActive: boolean; firstWaiter: Waiter | null; limit: number | null }> {
    const rows = await sql<{
      main_active: boolean;
      execution_id: string | null;
      step_id: string | null;
      since: unknown;
      limit: number | null;
    }>(
      this.em,
      `select exists (select 1 from jetcel_step where execution_id = ? and role = 'main'
                        and status in ('queued', 'running', 'waiting')) as main_active,
              w.execution_id, w.step_id, w.since,
              (${LIMIT_FOR_SQL}) as "limit"
       from (select 1) one
       left join lateral (select execution_id, step_id, since from jetcel_throttle_waiter
                          where kind = ? and scope = ? order by since, execution_id limit 1) w on true`,
      [executionId, kind, scope, kind, scope],
    );
    const row = rows[0];
    const firstWaiter =
      row?.execution_id && row.step_id
        ? { executionId: row.execution_id, stepId: row.step_id, since: toDate(row.since) }
        : null;
    const limit = row?.limit === null || row?.limit === undefined ? null : Number(row.limit);
    return { mainActive: Boolean(row?.main_active), firstWaiter, limit };
  }

  /** The first waiters of a scope, oldest first. */
  async first(kind: string, scope: string, count: number): Promise<Waiter[]> {
    const rows = await sql<{ execution_id: string; step_id: string; since: unknown }>(
      this.em,
      'select execution_id, step_id, since from jetcel_throttle_waiter where kind = ? and scope = ? order by since, execution_id limit ?',
      [kind, scope, count],
    );
    return rows.map((row) => ({ executionId: row.execution_id, stepId: row.step_id, since: toDate(row.since) }));
  }
}
