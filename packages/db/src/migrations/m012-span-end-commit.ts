import type { SqlMigration } from '../migrate.ts';

/**
 * The commit of a throttled span's last step in one round trip: the step's commit of m011 (result,
 * its success handler claimed for this worker) and then, in the same statement and transaction,
 * the slot handed to the longest waiter with its step claimed for this worker, or freed (m010's
 * `jetcel_throttle_pass`). Anything but `committed` from the step's commit is answered as it is,
 * and the caller commits through the stores instead.
 */
export const spanEndCommit: SqlMigration = {
  name: 'm012_span_end_commit',
  up: [
    `create or replace function jetcel_commit_span_end(
       p_step uuid, p_token uuid, p_result jsonb, p_fallback uuid, p_next jsonb, p_message jsonb, p_pass jsonb)
     returns jsonb language plpgsql as $body$
     declare
       v_done jsonb;
       v_pass record;
     begin
       v_done := jetcel_commit_step_done(p_step, p_token, p_result, p_fallback, p_next, p_message);
       if p_pass is null or v_done->>'kind' is distinct from 'committed' then
         return v_done;
       end if;
       select * into v_pass from jetcel_throttle_pass(p_pass->>'kind', p_pass->>'scope', (p_pass->>'slot')::int,
         (p_pass->>'execution_id')::uuid, (p_pass->>'default_limit')::int, p_pass->'lease',
         (p_pass->>'token')::uuid, p_pass->>'worker', (p_pass->>'claim_ttl_ms')::int);
       return v_done || jsonb_build_object('pass', jsonb_build_object(
         'outcome', v_pass.r_outcome, 'step', v_pass.r_step, 'execution', v_pass.r_execution));
     end
     $body$`,
  ],
  down: ['drop function if exists jetcel_commit_span_end(uuid, uuid, jsonb, uuid, jsonb, jsonb, jsonb)'],
};
