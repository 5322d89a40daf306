import type { SqlMigration } from '../migrate.ts';

/**
 * A step's commit in one round trip (the common case: a step done with no patch whose next step
 * this worker claims): lock the execution, record the result guarded by the claim, drop the step's
 * fallback row, insert the next step already claimed and its fallback row. Anything else answers
 * `slow` and the caller commits through the stores in the same transaction. It never raises for
 * a lost claim (it answers `claim_lost`), so it needs no savepoint of its own.
 */
export const stepCommitFunction: SqlMigration = {
  name: 'm011_step_commit_function',
  up: [
    `create or replace function jetcel_commit_step_done(
       p_step uuid, p_token uuid, p_result jsonb, p_fallback uuid, p_next jsonb, p_message jsonb)
     returns jsonb language plpgsql as $body$
     declare
       v_status text;
       v_next jsonb;
     begin
       select e.status into v_status from jetcel_execution e
         where e.id = (select s.execution_id from jetcel_step s where s.id = p_step) for update of e;
       if v_status is distinct from 'running' then
         return jsonb_build_object('kind', 'slow');
       end if;
       update jetcel_step set status = 'succeeded', finished_at = now(), claim_token = null, claimed_until = null,
           result = p_result, error_message = '', error_traceback = ''
         where id = p_step and claim_token = p_token and status = 'running';
       if not found then
         return jsonb_build_object('kind', 'claim_lost');
       end if;
       if p_fallback is not null then
         delete from jetcel_outbox where id = p_fallback and published_at is null;
       end if;
       insert into jetcel_step (id, execution_id, role, position, member, task, queue, args, resource_ref, before,
           ignore_errors, throttled, not_before, status, claim_token, worker, claimed_until, started_at)
         values ((p_next->>'id')::uuid, (p_next->>'execution_id')::uuid, (p_next->>'role')::step_role,
           (p_next->>'position')::int, (p_next->>'member')::int, p_next->>'task', p_next->>'queue',
           nullif(p_next->'args', 'null'::jsonb), p_next->>'resource_ref', nullif(p_next->'before', 'null'::jsonb), (p_next->>'ignore_errors')::boolean,
           (p_next->>'throttled')::boolean, now(), 'running', (p_next->>'claim_token')::uuid, p_next->>'worker',
           now() + ((p_next->>'ttl_ms')::int * interval '1 millisecond'), now())
         returning to_jsonb(jetcel_step.*) into v_next;
       insert into jetcel_outbox (id, subject, payload, headers, not_before)
         values ((p_message->>'id')::uuid, p_message->>'subject', p_message->>'payload', p_message->'headers',
           (p_message->>'not_before')::timestamptz);
       return jsonb_build_object('kind', 'committed', 'step', v_next);
     end
     $body$`,
  ],
  down: ['drop function if exists jetcel_commit_step_done(uuid, uuid, jsonb, uuid, jsonb, jsonb)'],
};
