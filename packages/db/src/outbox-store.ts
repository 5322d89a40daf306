import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { sql } from './sql.ts';

export interface OutboxRowInput {
  id?: string;
  subject: string;
  payload: string;
  headers?: Record<string, string>;
  /** Not published before this instant: the timer of every wait. */
  notBefore?: Date;
}

export interface OutboxRow {
  id: string;
  subject: string;
  payload: string;
  headers: Record<string, string>;
  notBefore: Date;
  attempts: number;
}

/** A row as its transaction wrote it: handed to the relay after COMMIT. */
export interface CommittedOutboxRow {
  id: string;
  subject: string;
  payload: string;
  headers: Record<string, string>;
  /** Null: due at once (and, with a hand-off, leased to this process). */
  notBefore: Date | null;
  /** Leased to this process at insert: nobody else publishes it before the lease runs out. */
  leased: boolean;
}

/** Collects a transaction's publish intents and inserts them in one statement before COMMIT. */
export class OutboxStore {
  readonly #pending: Array<Required<Omit<OutboxRowInput, 'notBefore'>> & { notBefore: Date | null }> = [];

  constructor(private readonly em: EntityManager) {}

  add(input: OutboxRowInput): string {
    const id = input.id ?? randomUUID();
    this.#pending.push({
      id,
      subject: input.subject,
      payload: input.payload,
      headers: input.headers ?? {},
      notBefore: input.notBefore ?? null,
    });
    return id;
  }

  /** Removes and returns the rows added since the last take; due ones are leased with a hand-off. */
  takePending(handoffLeaseMs: number | null): CommittedOutboxRow[] {
    return this.#pending.splice(0).map((row) => ({
      ...row,
      leased: handoffLeaseMs !== null && row.notBefore === null,
    }));
  }

  /** Rows committed but not yet published (the back-pressure gauge). */
  async unpublishedCount(): Promise<number> {
    const rows = await sql<{ n: string }>(
      this.em,
      'select count(*) as n from jetcel_outbox where published_at is null and not_before <= now()',
    );
    return Number(rows[0]?.n ?? 0);
  }

  /** Deletes a row nobody published yet (a timer made moot); a published one stays as it is. */
  async discardUnpublished(id: string): Promise<void> {
    await sql(this.em, 'delete from jetcel_outbox where id = ? and published_at is null', [id]);
  }

  /**
   * Inserts the pending rows (one statement) and returns them. With `handoffLeaseMs`, rows due now
   * are leased to this process: its relay publishes them from memory after COMMIT.
   */
  async flush(handoffLeaseMs: number | null = null): Promise<CommittedOutboxRow[]> {
    const rows = this.takePending(handoffLeaseMs);
    if (rows.length === 0) return [];
    const placeholders = rows
      .map(
        () =>
          "(?, ?, ?, ?::jsonb, coalesce(?::timestamptz, now()), case when ? then now() + (? * interval '1 millisecond') end)",
      )
      .join(', ');
    const params = rows.flatMap((row) => [
      row.id,
      row.subject,
      row.payload,
      JSON.stringify(row.headers),
      row.notBefore?.toISOString() ?? null,
      row.leased,
      handoffLeaseMs ?? 0,
    ]);
    await sql(
      this.em,
      `insert into jetcel_outbox (id, subject, payload, headers, not_before, lease_until) values ${placeholders}`,
      params,
    );
    return rows;
  }
}
