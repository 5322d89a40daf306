import type { SqlMigration } from '../migrate.ts';

/**
 * `jetcel_schedule(p jsonb)`: new executions, their first steps, their places on a throttle's
 * waiting list and the transaction's outbox rows so far, in one call. The same inserts as a
 * data-modifying statement with every value written into its text cost PostgreSQL a parse, an
 * analysis and a plan at every command; inside the function they are planned once per connection.
 * With `read_back`, it answers the rows inserted (`executions`, `steps`); otherwise null.
 */
export const scheduleFunction: SqlMigration = {
  name: 'm021_schedule_function',
  up: [
    `create function jetcel_schedule(p jsonb) returns jsonb language plpgsql as $body$
     declare
       v_read boolean := coalesce((p->>'read_back')::boolean, false);
       v_executions jsonb;
       v_steps jsonb;
     begin
       with e as (insert into jetcel_execution (id, executor, resource_type, resource_id, plan, params, actor, parent_step_id,
           resource_before)
         select x.id, x.executor, x.resource_type, x.resource_id, x.plan, x.params, x.actor, x.parent_step_id,
             x.resource_before
           from jsonb_to_recordset(p->'executions') as x(id uuid, executor text, resource_type text, resource_id text,
             plan jsonb, params jsonb, actor text, parent_step_id uuid, resource_before jsonb)
           returning *)
       select jsonb_agg(to_jsonb(e)) filter (where v_read) into v_executions from e;
       with s as (insert into jetcel_step (id, execution_id, role, position, member, task, queue, args, resource_ref, before,
           ignore_errors, throttled, not_before, status, claim_token, worker, claimed_until, started_at)
         select x.id, x.execution_id, x.role::step_role, x.position, x.member, x.task, x.queue, x.args, x.resource_ref,
             x.before, x.ignore_errors, x.throttled, coalesce(x.not_before, now()),
             (case when x.claim_token is null then 'queued' else 'running' end)::step_status, x.claim_token, x.worker,
             case when x.claim_token is null then null else now() + x.ttl_ms * interval '1 millisecond' end,
             case when x.claim_token is null then null else now() end
           from jsonb_to_recordset(p->'steps') as x(id uuid, execution_id uuid, role text, position int, member int,
             task text, queue text, args jsonb, resource_ref text, before jsonb, ignore_errors boolean,
             throttled boolean, not_before timestamptz, claim_token uuid, worker text, ttl_ms int)
           returning *)
       select jsonb_agg(to_jsonb(s)) filter (where v_read) into v_steps from s;
       if jsonb_array_length(p->'waiters') > 0 then
         insert into jetcel_throttle_waiter (execution_id, step_id, kind, scope, since)
           select x.execution_id, x.step_id, x.kind, x.scope, now() + x.place * interval '1 microsecond'
             from jsonb_to_recordset(p->'waiters') as x(execution_id uuid, step_id uuid, kind text, scope text, place int);
       end if;
       if jsonb_array_length(p->'outbox') > 0 then
         insert into jetcel_outbox (id, subject, payload, headers, not_before, lease_until)
           select x.id, x.subject, x.payload, coalesce(x.headers, '{}'::jsonb), coalesce(x.not_before, now()),
               case when x.leased then now() + x.lease_ms * interval '1 millisecond' end
             from jsonb_to_recordset(p->'outbox') as x(id uuid, subject text, payload text, headers jsonb,
               not_before timestamptz, leased boolean, lease_ms int);
       end if;
       return case when v_read then jsonb_build_object('executions', v_executions, 'steps', v_steps) end;
     end
     $body$`,
  ],
  down: ['drop function if exists jetcel_schedule(jsonb)'],
};
