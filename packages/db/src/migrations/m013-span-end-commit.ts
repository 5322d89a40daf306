import type { SqlMigration } from '../migrate.ts';

/**
 * The commit of a throttled span's last step in one round trip: the step's commit of m012
 * (`jetcel_commit_step`: result, patch, its success handler claimed for this worker) and then, in the same statement and transaction,
 * the slot handed to the longest waiter with its step claimed for this worker, or freed (m010's
 * `jetcel_throttle_pass`). Anything but `committed` from the step's commit is answered as it is,
 * and the caller commits through the stores instead.
 */
export const spanEndCommit: SqlMigration = {
  name: 'm013_span_end_commit',
  up: [
    `create or replace function jetcel_commit_span_end(p jsonb)
     returns jsonb language plpgsql as $body$
     declare
       v_done jsonb;
       v_pass record;
       p_pass jsonb := p->'pass';
     begin
       v_done := jetcel_commit_step(p);
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
    `create or replace function jetcel_throttle_enter_parked(p_kind text, p_scope text, p_execution uuid, p_step uuid,
       p_claim_token uuid, p_default_limit int, p_ttl_ms int, p_recheck_ms int, p_wait_limit_ms int, p_message jsonb)
     returns table (r_decision text, r_slot int, r_since timestamptz, r_delay_ms int, r_step json) language plpgsql as $body$
     begin
       for r_decision, r_slot, r_since, r_delay_ms, r_step in
         select * from jetcel_throttle_enter(p_kind, p_scope, p_execution, p_step, p_claim_token, p_default_limit,
                                             p_ttl_ms, p_recheck_ms, p_wait_limit_ms)
       loop
         if r_decision = 'wait' and r_step is not null then
           insert into jetcel_outbox (id, subject, payload, headers, not_before)
             values ((p_message->>'id')::uuid, p_message->>'subject', p_message->>'payload', p_message->'headers',
                     (r_step->>'not_before')::timestamptz);
         end if;
         return next;
       end loop;
     end
     $body$`,
  ],
  down: [
    'drop function if exists jetcel_throttle_enter_parked(text, text, uuid, uuid, uuid, int, int, int, int, jsonb)',
    'drop function if exists jetcel_commit_span_end(jsonb)',
  ],
};
