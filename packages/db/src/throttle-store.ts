import type { EntityManager } from '@mikro-orm/postgresql';
import { sql } from './sql.ts';
import { toDate } from './records.ts';

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
    const rows = await sql<{ limit: number }>(
      this.em,
      `select "limit" from jetcel_throttle_limit where kind = ? and scope in (?, '*') order by (scope = '*') limit 1`,
      [kind, scope],
    );
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

  /** Joins the waiting list (keeping the first arrival time) and answers how many wait ahead. */
  async wait(
    kind: string,
    scope: string,
    executionId: string,
    stepId: string,
  ): Promise<{ since: Date; ahead: number }> {
    const rows = await sql<{ since: unknown }>(
      this.em,
      `insert into jetcel_throttle_waiter (execution_id, step_id, kind, scope) values (?, ?, ?, ?)
       on conflict (execution_id) do update set step_id = excluded.step_id returning since`,
      [executionId, stepId, kind, scope],
    );
    const since = toDate(rows[0]?.since);
    const ahead = await sql<{ n: string }>(
      this.em,
      'select count(*) as n from jetcel_throttle_waiter where kind = ? and scope = ? and (since, execution_id) < (?, ?)',
      [kind, scope, since.toISOString(), executionId],
    );
    return { since, ahead: Number(ahead[0]?.n ?? 0) };
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

  async leave(executionId: string): Promise<void> {
    await sql(this.em, 'delete from jetcel_throttle_waiter where execution_id = ?', [executionId]);
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
