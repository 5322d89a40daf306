import { sql, type SqlRunner } from './sql.ts';

/** A throttle slot held by a background run (the slot rows executor spans use, the run's id as holder). */
export interface BackgroundSlot {
  kind: string;
  scope: string;
  slot: number;
  holder: string;
}

export type BackgroundSlotEntry =
  { kind: 'admitted'; slot: BackgroundSlot } | { kind: 'full' } | { kind: 'unthrottled' };

// The scope's lock and limit as `jetcel_throttle_enter` takes and reads them: one set of slots per scope.
const LOCK_AND_LIMIT = `select pg_advisory_xact_lock(hashtextextended('jetcel_throttle/' || ?::text || '/' || ?::text, 0)),
  coalesce((select l."limit" from jetcel_throttle_limit l where l.kind = ? and l.scope in (?, '*')
            order by (l.scope = '*') limit 1), ?::int) as "limit"`;

// The lowest slot below the limit with no live holder on record, taken for the run.
const TAKE_FREE = `insert into jetcel_throttle_slot as t (kind, scope, slot, execution_id, renewed_at)
  select ?, ?, s, ?::uuid, now() from generate_series(0, ?::int - 1) s
  where not exists (select 1 from jetcel_throttle_slot h where h.kind = ? and h.scope = ? and h.slot = s
                      and h.execution_id is not null and h.renewed_at > now() - ?::int * interval '1 millisecond')
  order by s limit 1
  on conflict (kind, scope, slot) do update set execution_id = excluded.execution_id, renewed_at = excluded.renewed_at
  returning slot`;

/**
 * Throttle slots for background runs: the same `jetcel_throttle_slot` rows as executor spans (a
 * kind's runs and spans share its limit), entered under the same per-scope lock. A holder renews
 * its slot while it runs; a slot not renewed within the lease TTL is free on record.
 */
export class BackgroundSlotStore {
  constructor(private readonly em: SqlRunner) {}

  async enter(input: {
    kind: string;
    scope: string;
    holder: string;
    defaultLimit: number;
    leaseTtlMs: number;
  }): Promise<BackgroundSlotEntry> {
    const { kind, scope, holder } = input;
    const [row] = await sql<{ limit: number }>(this.em, LOCK_AND_LIMIT, [kind, scope, kind, scope, input.defaultLimit]);
    const limit = Number(row?.limit ?? input.defaultLimit);
    if (limit < 0) return { kind: 'unthrottled' };
    const taken = await sql<{ slot: number }>(this.em, TAKE_FREE, [
      kind,
      scope,
      holder,
      limit,
      kind,
      scope,
      input.leaseTtlMs,
    ]);
    const slot = taken[0];
    return slot ? { kind: 'admitted', slot: { kind, scope, holder, slot: Number(slot.slot) } } : { kind: 'full' };
  }

  /** The holder is alive: its slot stays taken for another lease TTL. False when it no longer holds it. */
  async renew(slot: BackgroundSlot): Promise<boolean> {
    const rows = await sql(
      this.em,
      'update jetcel_throttle_slot set renewed_at = now() where kind = ? and scope = ? and slot = ? and execution_id = ? returning slot',
      [slot.kind, slot.scope, slot.slot, slot.holder],
    );
    return rows.length === 1;
  }

  async release(slot: BackgroundSlot): Promise<void> {
    await sql(
      this.em,
      'update jetcel_throttle_slot set execution_id = null where kind = ? and scope = ? and slot = ? and execution_id = ?',
      [slot.kind, slot.scope, slot.slot, slot.holder],
    );
  }
}
