import type { SqlMigration } from '../migrate.ts';

/** The scope's lock key: an admission takes it alone, span ends share it (see `jetcel_throttle_pass`). */
const SCOPE_KEY = `hashtextextended('jetcel_throttle/' || p_kind || '/' || p_scope, 0)`;
const SCOPE_LOCK = `perform pg_advisory_xact_lock(${SCOPE_KEY})`;
// Span ends of one scope never wait for each other (each gives its own slot, to a different waiter:
// `skip locked`); they only exclude an admission, which must see either the slot freed or its waiter taken.
const SCOPE_LOCK_SHARED = `perform pg_advisory_xact_lock_shared(${SCOPE_KEY})`;

/** The scope's limit: its own row, else the kind's '*' row, else the worker's default. */
const LIMIT_INTO = `select l."limit" into v_limit from jetcel_throttle_limit l
    where l.kind = p_kind and l.scope in (p_scope, '*') order by (l.scope = '*') limit 1;
  v_limit := coalesce(v_limit, p_default_limit)`;

/**
 * Which execution holds which slot of a scope, decided in PostgreSQL (the KV key of the slot is
 * the live lease and its fencing token). Two server-side functions, one round trip each:
 * `jetcel_throttle_enter` admits to a free slot or parks the execution as a waiter;
 * `jetcel_throttle_pass` runs in the commit that ends a span and gives the slot to the first
 * waiter, whose step it claims for the committing worker, or frees it.
 */
export const throttleSlots: SqlMigration = {
  name: 'm010_throttle_slots',
  up: [
    `create table "jetcel_throttle_slot" ("kind" varchar(64) not null, "scope" varchar(255) not null, "slot" int not null, "execution_id" uuid null, "renewed_at" timestamptz not null default now(), constraint "jetcel_throttle_slot_pkey" primary key ("kind", "scope", "slot"))`,
    `create index "jetcel_throttle_slot_execution_index" on "jetcel_throttle_slot" ("execution_id")`,
    `create or replace function jetcel_throttle_enter(p_kind text, p_scope text, p_execution uuid, p_step uuid, p_claim_token uuid, p_default_limit int, p_ttl_ms int, p_recheck_ms int, p_wait_limit_ms int)
returns table (r_decision text, r_slot int, r_since timestamptz, r_delay_ms int, r_step json) language plpgsql as $fn$
declare
  v_limit int;
  v_since timestamptz;
  v_ahead int;
  v_free int[];
  v_waited_ms int;
  v_delay_ms int;
  v_step json;
  v_behind boolean;
begin
  -- Lost in a crash, an admission only lets the step's claim expire and the step be claimed again.
  perform set_config('synchronous_commit', 'off', true);
  ${LIMIT_INTO};
  -- A newcomer behind a full queue (at least as many live waiters ready to take a slot as there are
  -- slots) parks without the scope's lock: every slot an ending span gives goes to one of those first.
  v_behind := v_limit > 0
    and not exists (select 1 from jetcel_throttle_waiter w where w.execution_id = p_execution)
    and not exists (select 1 from jetcel_throttle_slot t
                    where t.kind = p_kind and t.scope = p_scope and t.execution_id = p_execution)
    and (select count(*) from (select 1 from jetcel_throttle_waiter w
                               join jetcel_step s on s.id = w.step_id and s.status = 'queued'
                               join jetcel_execution e on e.id = w.execution_id and e.status = 'running'
                               where w.kind = p_kind and w.scope = p_scope limit v_limit) ready) >= v_limit;
  if not v_behind then
  ${SCOPE_LOCK};
  -- A slot this execution still has on record (its lease was lost) is given up first.
  update jetcel_throttle_slot t set execution_id = null
    where t.kind = p_kind and t.scope = p_scope and t.execution_id = p_execution;
  if v_limit < 0 then
    delete from jetcel_throttle_waiter w where w.execution_id = p_execution;
    return query select 'unthrottled'::text, null::int, null::timestamptz, null::int, null::json;
    return;
  end if;
  -- Free: no live holder on record (a holder renews at least once per lease TTL).
  select coalesce(array_agg(s order by s), '{}') into v_free from generate_series(0, v_limit - 1) s
    where not exists (select 1 from jetcel_throttle_slot t
                      where t.kind = p_kind and t.scope = p_scope and t.slot = s and t.execution_id is not null
                        and t.renewed_at > now() - p_ttl_ms * interval '1 millisecond');
  if cardinality(v_free) > 0 then
    -- First come, first served: only as many as there are free slots beyond the older live waiters.
    select w.since into v_since from jetcel_throttle_waiter w where w.execution_id = p_execution;
    select count(*) into v_ahead from jetcel_throttle_waiter w join jetcel_execution e on e.id = w.execution_id
      where w.kind = p_kind and w.scope = p_scope and w.execution_id <> p_execution and e.status = 'running'
        and (v_since is null or (w.since, w.execution_id) < (v_since, p_execution));
    if v_ahead < cardinality(v_free) then
      insert into jetcel_throttle_slot as t (kind, scope, slot, execution_id, renewed_at)
        values (p_kind, p_scope, v_free[1], p_execution, now())
        on conflict (kind, scope, slot) do update set execution_id = excluded.execution_id, renewed_at = excluded.renewed_at;
      delete from jetcel_throttle_waiter w where w.execution_id = p_execution;
      return query select 'admitted'::text, v_free[1], v_since, null::int, null::json;
      return;
    end if;
  end if;
  end if;
  insert into jetcel_throttle_waiter as w (execution_id, step_id, kind, scope) values (p_execution, p_step, p_kind, p_scope)
    on conflict (execution_id) do update set step_id = excluded.step_id returning w.since into v_since;
  v_waited_ms := floor(extract(epoch from clock_timestamp() - v_since) * 1000);
  if v_waited_ms >= p_wait_limit_ms then
    delete from jetcel_throttle_waiter w where w.execution_id = p_execution;
    return query select 'timeout'::text, null::int, v_since, null::int, null::json;
    return;
  end if;
  -- The step waits queued (no worker slot), so an ending span can claim it at once; its fallback
  -- timer's message is written next by the caller.
  v_delay_ms := least(p_recheck_ms, p_wait_limit_ms - v_waited_ms + 50);
  update jetcel_step s set status = 'queued', claim_token = null, claimed_until = null,
      not_before = clock_timestamp() + v_delay_ms * interval '1 millisecond', error_message = '', error_traceback = ''
    where s.id = p_step and s.claim_token = p_claim_token and s.status = 'running' returning row_to_json(s) into v_step;
  return query select 'wait'::text, null::int, v_since, v_delay_ms, v_step;
end
$fn$`,
    `create or replace function jetcel_throttle_pass(p_kind text, p_scope text, p_slot int, p_execution uuid, p_default_limit int, p_lease jsonb, p_token uuid, p_worker text, p_claim_ttl_ms int)
returns table (r_outcome text, r_step json, r_execution json) language plpgsql as $fn$
declare
  v_limit int;
  v_waiter uuid;
  v_step_id uuid;
  v_step json;
  v_execution json;
  v_round int;
begin
  -- The span goes on while its main chain has a step to run.
  if exists (select 1 from jetcel_step s where s.execution_id = p_execution and s.role = 'main'
               and s.status in ('queued', 'running', 'waiting')) then
    return query select 'held'::text, null::json, null::json;
    return;
  end if;
  -- Checked before and after taking the scope's lock: only this execution gives its slot on record away.
  for v_round in 1..2 loop
    if not exists (select 1 from jetcel_throttle_slot t where t.kind = p_kind and t.scope = p_scope
                     and t.slot = p_slot and t.execution_id = p_execution) then
      return query select 'not_held'::text, null::json, null::json;
      return;
    end if;
    if v_round = 1 then ${SCOPE_LOCK_SHARED}; end if;
  end loop;
  ${LIMIT_INTO};
  -- A slot above a lowered limit (or of a scope switched off) is freed, not handed on.
  if v_limit >= 0 and p_slot < v_limit then
    -- The longest live waiter whose step is not being admitted right now.
    select w.execution_id, w.step_id into v_waiter, v_step_id from jetcel_throttle_waiter w
      join jetcel_step s on s.id = w.step_id and s.status = 'queued'
      join jetcel_execution e on e.id = w.execution_id and e.status = 'running'
      where w.kind = p_kind and w.scope = p_scope
      order by w.since, w.execution_id limit 1 for update of w skip locked;
    if v_waiter is not null then
      update jetcel_step s set status = 'running', claim_token = p_token,
          claimed_until = now() + p_claim_ttl_ms * interval '1 millisecond', worker = p_worker,
          started_at = coalesce(s.started_at, now())
        where s.id = v_step_id and s.status = 'queued' returning row_to_json(s) into v_step;
      if v_step is not null then
        delete from jetcel_throttle_waiter w where w.execution_id = v_waiter;
        update jetcel_throttle_slot t set execution_id = v_waiter, renewed_at = now()
          where t.kind = p_kind and t.scope = p_scope and t.slot = p_slot;
        update jetcel_execution e set lease = p_lease, updated_at = now() where e.id = v_waiter
          returning row_to_json(e) into v_execution;
        return query select 'handed'::text, v_step, v_execution;
        return;
      end if;
    end if;
  end if;
  update jetcel_throttle_slot t set execution_id = null where t.kind = p_kind and t.scope = p_scope and t.slot = p_slot;
  return query select 'released'::text, null::json, null::json;
end
$fn$`,
  ],
  down: [
    'drop function if exists jetcel_throttle_pass(text, text, int, uuid, int, jsonb, uuid, text, int)',
    'drop function if exists jetcel_throttle_enter(text, text, uuid, uuid, uuid, int, int, int, int)',
    'drop table if exists "jetcel_throttle_slot"',
  ],
};
