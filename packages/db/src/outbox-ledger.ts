import type { EntityManager } from '@mikro-orm/postgresql';
import type { OutboxRow } from './outbox-store.ts';
import { toDate } from './records.ts';
import type { RelaxedPool } from './relaxed-pool.ts';
import { sql } from './sql.ts';

/**
 * The relay's bookkeeping on the outbox table: claiming due rows, marking them published or
 * failed, and when the nearest one comes due. Claims and marks run on the relaxed pool: a lease
 * or a mark lost in a crash only means one more publish of the same message id.
 */
export class OutboxLedger {
  constructor(
    private readonly relaxed: RelaxedPool,
    private readonly run: <T>(fn: (em: EntityManager) => Promise<T>) => Promise<T>,
  ) {}

  /** Leases up to `limit` due, unpublished rows for `leaseMs` (SKIP LOCKED: relays share the work). */
  async claimDue(limit: number, leaseMs: number): Promise<OutboxRow[]> {
    // m018: an index scan of the unpublished rows, which skips the entries of dead rows once it has met them
    const rows = await this.relaxed.query('select * from jetcel_outbox_claim_due(?, ?)', [limit, leaseMs]);
    return rows.map((row) => ({
      id: String(row.id),
      subject: String(row.subject),
      payload: String(row.payload),
      headers: (row.headers ?? {}) as Record<string, string>,
      notBefore: toDate(row.not_before),
      attempts: Number(row.attempts),
    }));
  }

  async markPublished(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    // m022: planned once per connection, and always by key (see the migration)
    await this.relaxed.query('select jetcel_outbox_mark_published(?::uuid[])', [ids], { prepared: true });
  }

  /** A refused publish stays unpublished, leased to nobody for `delayMs` (the backoff). */
  async markFailed(id: string, delayMs: number, reason: string): Promise<void> {
    await this.relaxed.query(
      "update jetcel_outbox set lease_until = now() + (? * interval '1 millisecond'), last_error = ? where id = ?",
      [delayMs, reason.slice(0, 2000), id],
    );
  }

  /** Milliseconds until the nearest unpublished row (or its backoff) comes due; null if none. */
  async nextDueInMs(): Promise<number | null> {
    const rows = await this.run((em) =>
      sql<{ wait_ms: number | null }>(em, 'select jetcel_outbox_next_due_ms() as wait_ms'),
    );
    const waitMs = rows[0]?.wait_ms;
    return waitMs === null || waitMs === undefined ? null : Math.ceil(Number(waitMs));
  }
}
