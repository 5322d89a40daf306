import { randomUUID } from 'node:crypto';
import { sql, valuesRows, type SqlRunner } from './sql.ts';

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
  /** Rows another statement of this transaction inserted (`pendingRows`), reported by the next flush. */
  readonly #written: CommittedOutboxRow[] = [];

  /** `handoffLeaseMs`: the lease rows due now get when this process hands them off (see `Db.onCommit`). */
  constructor(
    private readonly em: SqlRunner,
    private readonly handoffLeaseMs: () => number | null = () => null,
  ) {}

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
  #takePending(handoffLeaseMs: number | null): CommittedOutboxRow[] {
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

  /**
   * Inserts the pending rows (one statement) and returns them with those another statement already
   * inserted. While this process hands rows off, rows due now are leased to it: its relay publishes
   * them from memory after COMMIT.
   */
  async flush(): Promise<CommittedOutboxRow[]> {
    const handoffLeaseMs = this.handoffLeaseMs();
    const written = this.#written.splice(0);
    const rows = this.#takePending(handoffLeaseMs);
    if (rows.length > 0) {
      const insert = outboxInsert(rows, handoffLeaseMs);
      await sql(this.em, insert.sql, insert.params);
    }
    return [...written, ...rows];
  }

  /**
   * The pending rows as `jetcel_schedule` inserts them (m021), for a statement of this transaction
   * that carries them so they cost no round trip of their own; null when none are pending. Call
   * `written` once that statement succeeded (the next flush reports them) or `failed` to put them
   * back. While this process hands rows off, rows due now are leased to it.
   */
  pendingRows(): { rows: Record<string, unknown>[]; written: () => void; failed: () => void } | null {
    if (this.#pending.length === 0) return null;
    const leaseMs = this.handoffLeaseMs();
    const rows = this.#takePending(leaseMs);
    return {
      rows: rows.map((row) => ({
        id: row.id,
        subject: row.subject,
        payload: row.payload,
        headers: row.headers,
        not_before: row.notBefore?.toISOString() ?? null,
        leased: row.leased,
        lease_ms: leaseMs ?? 0,
      })),
      written: () => this.#written.push(...rows),
      failed: () => this.#pending.unshift(...rows.map(({ leased: _leased, ...row }) => row)),
    };
  }
}

/** One insert of outbox rows; rows due now and leased are leased for `handoffLeaseMs`. */
function outboxInsert(rows: CommittedOutboxRow[], handoffLeaseMs: number | null): { sql: string; params: unknown[] } {
  const row =
    "(?, ?, ?, ?::jsonb, coalesce(?::timestamptz, now()), case when ? then now() + (? * interval '1 millisecond') end)";
  return {
    sql: `insert into jetcel_outbox (id, subject, payload, headers, not_before, lease_until) values ${valuesRows(row, rows.length)}`,
    params: rows.flatMap((entry) => [
      entry.id,
      entry.subject,
      entry.payload,
      JSON.stringify(entry.headers),
      entry.notBefore?.toISOString() ?? null,
      entry.leased,
      handoffLeaseMs ?? 0,
    ]),
  };
}
