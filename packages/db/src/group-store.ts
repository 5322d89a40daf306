import { randomUUID } from 'node:crypto';
import type { FailureInfo, GroupPolicy } from '@jetcel/core';
import { sql, type SqlRunner } from './sql.ts';

export interface GroupState {
  remaining: number;
  failed: boolean;
  failure: FailureInfo | null;
  policy: GroupPolicy;
}

/** Fan-in rows: each member's completion transaction decrements `remaining` once (its step CAS guards it). */
export class GroupStore {
  constructor(private readonly em: SqlRunner) {}

  async create(executionId: string, position: number, policy: GroupPolicy, size: number): Promise<void> {
    await sql(
      this.em,
      'insert into jetcel_group (id, execution_id, position, policy, size, remaining) values (?, ?, ?, ?, ?, ?)',
      [randomUUID(), executionId, position, policy, size, size],
    );
  }

  /** Marks the group failed, keeping the first failure. */
  async markFailed(executionId: string, position: number, failure: FailureInfo): Promise<void> {
    await sql(
      this.em,
      'update jetcel_group set failed = true, failure = coalesce(failure, ?::jsonb) where execution_id = ? and position = ?',
      [JSON.stringify(failure), executionId, position],
    );
  }

  /** Counts `finished` members off; the transaction that sees 0 writes the continuation. */
  async countDown(executionId: string, position: number, finished: number): Promise<GroupState> {
    const rows = await sql<{ remaining: number; failed: boolean; failure: FailureInfo | null; policy: GroupPolicy }>(
      this.em,
      `update jetcel_group set remaining = remaining - ? where execution_id = ? and position = ?
       returning remaining, failed, failure, policy`,
      [finished, executionId, position],
    );
    const row = rows[0];
    if (!row) throw new Error(`No group at position ${position} of execution ${executionId}`);
    return { remaining: Number(row.remaining), failed: Boolean(row.failed), failure: row.failure, policy: row.policy };
  }
}
