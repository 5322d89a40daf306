import type { SqlMigration } from '../migrate.ts';

// Both run with bitmap and sequential scans off: only an index scan marks the index entries of
// rows that are dead to everyone, so the next sweep skips them without visiting the table.
export const SWEEP_SETTINGS = 'set enable_bitmapscan = off set enable_seqscan = off';

/**
 * The relay's two sweeps of the outbox (claim the due rows, when is the next one due) as functions
 * that read the partial index of unpublished rows by an index scan. A bitmap scan, which the
 * planner chose, visits the table for every entry of the index, dead ones included, and marks
 * none: each published or deleted row (a fallback row deleted by the next step's commit) kept
 * costing every sweep until VACUUM removed it. An index scan marks such entries the first time it
 * meets them, so a sweep costs the live rows and a read of the index.
 */
export const outboxSweepsByIndex: SqlMigration = {
  name: 'm018_outbox_sweeps_by_index',
  up: [
    `create function jetcel_outbox_claim_due(p_limit int, p_lease_ms double precision)
  returns table (id uuid, subject varchar, payload text, headers jsonb, not_before timestamptz, attempts int)
  language sql ${SWEEP_SETTINGS}
as $$
  update jetcel_outbox o set lease_until = now() + (p_lease_ms * interval '1 millisecond'), attempts = o.attempts + 1
    where o.id in (
      select d.id from jetcel_outbox d
      where d.published_at is null and d.not_before <= now() and (d.lease_until is null or d.lease_until < now())
      order by d.not_before limit p_limit for update skip locked)
    returning o.id, o.subject, o.payload, o.headers, o.not_before, o.attempts
$$`,
    `create function jetcel_outbox_next_due_ms() returns double precision
  language sql stable ${SWEEP_SETTINGS}
as $$
  select extract(epoch from (min(greatest(not_before, coalesce(lease_until, not_before))) - now())) * 1000
    from jetcel_outbox where published_at is null
$$`,
  ],
  down: [
    'drop function if exists jetcel_outbox_next_due_ms()',
    'drop function if exists jetcel_outbox_claim_due(int, double precision)',
  ],
};
