import type { Json } from '@jetcel/core';
import type { BackgroundRunStatus } from './entities/background-run.ts';
import { RunClaimLostError } from './errors.ts';
import { toDate, toDateOrNull } from './records.ts';
import { sql, type SqlRunner } from './sql.ts';

export interface BackgroundRunRecord {
  id: string;
  task: string;
  equalityKey: string | null;
  resourceRef: string | null;
  args: Json | null;
  status: BackgroundRunStatus;
  attempts: number;
  claimToken: string | null;
  claimedUntil: Date | null;
  notBefore: Date;
  createdAt: Date;
  updatedAt: Date;
}

export interface NewBackgroundRun {
  id: string;
  task: string;
  equalityKey: string | null;
  resourceRef: string | null;
  args: Json | null;
  notBefore: Date | null;
}

/** Why a delivery may or may not run its background run. */
export type RunClaimResult =
  | { kind: 'claimed'; run: BackgroundRunRecord; takeover: boolean }
  | { kind: 'missing' }
  | { kind: 'live_claim'; claimedUntil: Date }
  | { kind: 'not_due'; notBefore: Date };

/**
 * Background runs: a row exists while its task is queued or running, and the partial
 * unique index on `equality_key` keeps equal runs out. Claims work like step claims.
 */
export class BackgroundRunStore {
  constructor(private readonly em: SqlRunner) {}

  /** Inserts the run, or returns null when an equal run is queued or running (nothing written). */
  async insert(run: NewBackgroundRun): Promise<BackgroundRunRecord | null> {
    const rows = await sql(
      this.em,
      `insert into jetcel_background_run (id, task, equality_key, resource_ref, args, not_before)
       values (?, ?, ?, ?, ?::jsonb, coalesce(?::timestamptz, now()))
       on conflict do nothing returning *`,
      [
        run.id,
        run.task,
        run.equalityKey,
        run.resourceRef,
        run.args === null ? null : JSON.stringify(run.args),
        run.notBefore?.toISOString() ?? null,
      ],
    );
    return rows[0] ? toBackgroundRunRecord(rows[0]) : null;
  }

  /**
   * For an equality predicate: serializes the enqueuers of one task until COMMIT (a transaction
   * advisory lock), then lists its queued or running runs, which the predicate is checked against.
   */
  async lockActiveOf(task: string): Promise<BackgroundRunRecord[]> {
    await sql(this.em, 'select pg_advisory_xact_lock(hashtext(?))', [`jetcel_background_run:${task}`]);
    const rows = await sql(this.em, 'select * from jetcel_background_run where task = ? order by created_at', [task]);
    return rows.map(toBackgroundRunRecord);
  }

  async get(id: string): Promise<BackgroundRunRecord | null> {
    const rows = await sql(this.em, 'select * from jetcel_background_run where id = ?', [id]);
    return rows[0] ? toBackgroundRunRecord(rows[0]) : null;
  }

  /**
   * Claims a run before it starts (compare-and-set with a fresh token): a queued run that is due,
   * or a running one whose claim expired (a takeover). A finished run is gone: `missing`.
   */
  async claim(id: string, input: { token: string; ttlMs: number; skewMs?: number }): Promise<RunClaimResult> {
    const rows = await sql(
      this.em,
      `select status, claimed_until, not_before, claimed_until < now() as expired,
              not_before <= now() + (? * interval '1 millisecond') as due
       from jetcel_background_run where id = ? for update`,
      [input.skewMs ?? 250, id],
    );
    const current = rows[0];
    if (!current) return { kind: 'missing' };
    const status = current.status as BackgroundRunStatus;
    if (status === 'running' && !current.expired)
      return { kind: 'live_claim', claimedUntil: toDate(current.claimed_until) };
    if (status === 'queued' && !current.due) return { kind: 'not_due', notBefore: toDate(current.not_before) };
    const claimed = await sql(
      this.em,
      `update jetcel_background_run set status = 'running', claim_token = ?,
         claimed_until = now() + (? * interval '1 millisecond'), updated_at = now()
       where id = ? returning *`,
      [input.token, input.ttlMs, id],
    );
    const run = claimed[0];
    if (!run) return { kind: 'missing' };
    return { kind: 'claimed', run: toBackgroundRunRecord(run), takeover: status === 'running' };
  }

  /** Extends a live claim; false when it no longer holds. */
  async extend(id: string, token: string, ttlMs: number): Promise<boolean> {
    const rows = await sql(
      this.em,
      `update jetcel_background_run set claimed_until = now() + (? * interval '1 millisecond')
       where id = ? and claim_token = ? and status = 'running' returning id`,
      [ttlMs, id, token],
    );
    return rows.length === 1;
  }

  /** The run is over (done or failed for good): its row goes, and with it the equality. */
  async finish(id: string, token: string): Promise<void> {
    await this.guarded(
      id,
      token,
      "delete from jetcel_background_run where id = ? and claim_token = ? and status = 'running' returning id",
    );
  }

  /** Puts the run back in the queue for a retry; the caller writes the outbox row that re-publishes it. */
  async requeue(id: string, token: string, input: { notBefore: Date }): Promise<BackgroundRunRecord> {
    const [row] = await this.guarded(
      id,
      token,
      `update jetcel_background_run set status = 'queued', claim_token = null, claimed_until = null,
         not_before = ?, attempts = attempts + 1, updated_at = now()
       where id = ? and claim_token = ? and status = 'running' returning *`,
      [input.notBefore.toISOString()],
    );
    if (!row) throw new RunClaimLostError(id);
    return toBackgroundRunRecord(row);
  }

  /**
   * Puts a run that must wait (for a throttle slot) back in the queue, due at `notBefore`, without
   * using up an attempt; the caller writes the outbox row that re-publishes it.
   */
  async park(id: string, token: string, input: { notBefore: Date }): Promise<BackgroundRunRecord> {
    const [row] = await this.guarded(
      id,
      token,
      `update jetcel_background_run set status = 'queued', claim_token = null, claimed_until = null,
         not_before = ?, updated_at = now()
       where id = ? and claim_token = ? and status = 'running' returning *`,
      [input.notBefore.toISOString()],
    );
    if (!row) throw new RunClaimLostError(id);
    return toBackgroundRunRecord(row);
  }

  /**
   * The reconciler's part (the equality row must not outlive its task): runs whose claim expired
   * `graceMs` ago (their worker died) and runs queued and due for longer than `staleMs` (their
   * message was lost) are queued again, due now, for a re-publish with a fresh message id.
   */
  async requeueExpired(input: { graceMs: number; staleMs: number; limit: number }): Promise<BackgroundRunRecord[]> {
    const rows = await sql(
      this.em,
      `update jetcel_background_run set status = 'queued', claim_token = null, claimed_until = null,
         not_before = now(), updated_at = now()
       where id in (
         select id from jetcel_background_run
         where (status = 'running' and claimed_until < now() - (? * interval '1 millisecond'))
            or (status = 'queued' and not_before < now() - (? * interval '1 millisecond'))
         order by not_before limit ? for update skip locked)
       returning *`,
      [input.graceMs, input.staleMs, input.limit],
    );
    return rows.map(toBackgroundRunRecord);
  }

  private async guarded(
    id: string,
    token: string,
    text: string,
    leading: unknown[] = [],
  ): Promise<Record<string, unknown>[]> {
    const rows = await sql(this.em, text, [...leading, id, token]);
    if (rows.length === 0) throw new RunClaimLostError(id);
    return rows;
  }
}

export function toBackgroundRunRecord(row: Record<string, unknown>): BackgroundRunRecord {
  return {
    id: String(row.id),
    task: String(row.task),
    equalityKey: (row.equality_key as string | null) ?? null,
    resourceRef: (row.resource_ref as string | null) ?? null,
    args: (row.args ?? null) as Json | null,
    status: row.status as BackgroundRunStatus,
    attempts: Number(row.attempts),
    claimToken: (row.claim_token as string | null) ?? null,
    claimedUntil: toDateOrNull(row.claimed_until),
    notBefore: toDate(row.not_before),
    createdAt: toDate(row.created_at),
    updatedAt: toDate(row.updated_at),
  };
}
