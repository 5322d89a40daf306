import type { SqlMigration } from '../migrate.ts';
import { SWEEP_SETTINGS } from './m018-outbox-sweeps-by-index.ts';

/**
 * The reconciler's two sweeps of the step table (claims that expired; queued steps whose message
 * was lost) as functions that read `(status, claimed_until)` by an index scan, as m018 does for the
 * outbox: every status change of a step adds an entry to that index, and a bitmap scan visited the
 * table for each entry left by an earlier status on every sweep until VACUUM; an index scan marks
 * them dead once.
 */
export const stepSweepsByIndex: SqlMigration = {
  name: 'm019_step_sweeps_by_index',
  up: [
    `create function jetcel_requeue_expired_steps(p_grace_ms double precision, p_limit int)
  returns setof jetcel_step language sql ${SWEEP_SETTINGS}
as $$
  update jetcel_step set status = 'queued', claim_token = null, claimed_until = null, not_before = now(),
    takeovers = takeovers + 1
  where id in (
    select s.id from jetcel_step s join jetcel_execution e on e.id = s.execution_id
    where s.status = 'running' and s.claimed_until < now() - (p_grace_ms * interval '1 millisecond') and e.status = 'running'
    order by s.claimed_until limit p_limit for update of s skip locked)
  returning *
$$`,
    `create function jetcel_touch_stale_queued_steps(p_stale_ms double precision, p_limit int)
  returns setof jetcel_step language sql ${SWEEP_SETTINGS}
as $$
  update jetcel_step set not_before = now()
  where id in (
    select s.id from jetcel_step s join jetcel_execution e on e.id = s.execution_id
    where s.status = 'queued' and s.not_before < now() - (p_stale_ms * interval '1 millisecond')
      and (e.status = 'running' or (e.status = 'cancel_requested' and s.role = 'failure'))
    order by s.not_before limit p_limit for update of s skip locked)
  returning *
$$`,
  ],
  down: [
    'drop function if exists jetcel_touch_stale_queued_steps(double precision, int)',
    'drop function if exists jetcel_requeue_expired_steps(double precision, int)',
  ],
};
