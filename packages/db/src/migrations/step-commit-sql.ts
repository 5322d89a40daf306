/**
 * The text of `jetcel_commit_step(p jsonb)`, the one-statement step commit (see m012), shared by the
 * migrations that (re)define it. `settled`: with `p.settled` (a success handler settled in this
 * commit), the execution's end also inserts that handler's step as already succeeded (m014).
 * `fallbackByKey`: the step's fallback row is deleted by its key alone (m016). `versionReadBeside`: a
 * resource named with `read_beside` has its version read by the statement that calls the function,
 * not here (m020). `patchByFunction`: a patch goes through `jetcel_patch_resource`, static for the
 * resource tables the migrate job found (m023). `withoutFallbackRows`: a step claimed for this worker
 * gets no outbox row (its message) and a commit deletes none; the reconciler's re-queue of an
 * expired claim is what recovers it (m024). `briefAnswer`: with `p.brief`, the answer carries the
 * transaction's `now()` as `at` instead of the next step's row, which the caller builds from what it
 * sent (m024).
 */
export function stepCommitFunctionSql(options: {
  settled: boolean;
  fallbackByKey?: boolean;
  versionReadBeside?: boolean;
  patchByFunction?: boolean;
  withoutFallbackRows?: boolean;
  briefAnswer?: boolean;
}): string {
  const settledInsert = options.settled ? SETTLED_INSERT : '';
  const patch = options.patchByFunction
    ? '           v_version := jetcel_patch_resource(v_resource);'
    : resourcePatchSql('v_resource', '           ');
  const versionRead = options.versionReadBeside
    ? "elsif not coalesce((v_resource->>'read_beside')::boolean, false) then"
    : 'else';
  const fallbackDelete = options.withoutFallbackRows
    ? ''
    : `       if p->>'fallback' is not null then
${options.fallbackByKey ? FALLBACK_DELETE_BY_KEY : FALLBACK_DELETE_UNPUBLISHED}
       end if;
`;
  const fallbackInsert = options.withoutFallbackRows ? '' : FALLBACK_INSERT;
  return `create or replace function jetcel_commit_step(p jsonb) returns jsonb language plpgsql as $body$
     declare
       v_step uuid := (p->>'step')::uuid;
       v_execution uuid;
       v_status text;
       v_parent uuid;
       v_finish boolean := coalesce((p->>'finish')::boolean, false);
       v_resource jsonb := p->'resource';
       v_set jsonb := p->'resource'->'set';
       v_columns text;
       v_version int;
       v_next jsonb;
       v_n jsonb := p->'next';
${options.withoutFallbackRows ? '' : "       v_m jsonb := p->'message';\n"}     begin
       select e.id, e.status, e.parent_step_id into v_execution, v_status, v_parent from jetcel_execution e
         where e.id = (select s.execution_id from jetcel_step s where s.id = v_step) for update of e;
       if v_status is distinct from 'running' or (v_finish and v_parent is not null) then
         return jsonb_build_object('kind', 'slow');
       end if;
       perform 1 from jetcel_step where id = v_step and claim_token = (p->>'token')::uuid and status = 'running'
         for update;
       if not found then
         return jsonb_build_object('kind', 'claim_lost');
       end if;
       if jsonb_typeof(v_resource) = 'object' then
         if jsonb_typeof(v_set) = 'object' then
${patch}
           if v_version is null then
             return jsonb_build_object('kind', 'slow');
           end if;
         ${versionRead}
           execute format('select version from %I where id = $1', v_resource->>'table')
             into v_version using (v_resource->>'id')::uuid;
         end if;
       end if;
       update jetcel_step set status = 'succeeded', finished_at = now(), claim_token = null, claimed_until = null,
           result = nullif(p->'result', 'null'::jsonb), error_message = '', error_traceback = ''
         where id = v_step;
${fallbackDelete}       if jsonb_typeof(v_n) = 'object' then
         insert into jetcel_step (id, execution_id, role, position, member, task, queue, args, resource_ref, before,
             ignore_errors, throttled, not_before, status, claim_token, worker, claimed_until, started_at)
           values ((v_n->>'id')::uuid, v_execution, (v_n->>'role')::step_role,
             (v_n->>'position')::int, (v_n->>'member')::int, v_n->>'task', v_n->>'queue',
             nullif(v_n->'args', 'null'::jsonb), v_n->>'resource_ref', nullif(v_n->'before', 'null'::jsonb),
             (v_n->>'ignore_errors')::boolean, (v_n->>'throttled')::boolean, now(), 'running',
             (v_n->>'claim_token')::uuid, v_n->>'worker', now() + ((v_n->>'ttl_ms')::int * interval '1 millisecond'), now())
           returning ${options.briefAnswer ? "case when coalesce((p->>'brief')::boolean, false) then null else to_jsonb(jetcel_step.*) end" : 'to_jsonb(jetcel_step.*)'} into v_next;${fallbackInsert}
       elsif v_finish then${settledInsert}
         delete from jetcel_throttle_waiter where execution_id = v_execution;
         update jetcel_execution set status = 'succeeded', finished_at = now(), updated_at = now() where id = v_execution;
       end if;
       if jsonb_typeof(p->'events') = 'array' then
${eventsInsertSql("p->'events'", '         ')}
       end if;
       return jsonb_build_object('kind', 'committed', 'step', v_next, 'version', v_version${options.briefAnswer ? ", 'at', now()" : ''});
     end
     $body$`;
}

const FALLBACK_INSERT = `
         insert into jetcel_outbox (id, subject, payload, headers, not_before)
           values ((v_m->>'id')::uuid, v_m->>'subject', v_m->>'payload', v_m->'headers', (v_m->>'not_before')::timestamptz);`;

const FALLBACK_DELETE_UNPUBLISHED = `         delete from jetcel_outbox where id = (p->>'fallback')::uuid and published_at is null;`;
// With "published_at is null" the cached generic plan scans the partial index of unpublished rows
// whole (every in-flight fallback row and waiter timer), filtering on the key. Once its step has
// committed, the row is moot whether published or not.
const FALLBACK_DELETE_BY_KEY = `         delete from jetcel_outbox where id = (p->>'fallback')::uuid;`;

// The success handler's step, settled without running: inserted as succeeded beside the execution's end.
const SETTLED_INSERT = `
         if jsonb_typeof(p->'settled') = 'object' then
           insert into jetcel_step (id, execution_id, role, position, member, task, queue, args, resource_ref, before,
               ignore_errors, throttled, not_before, status, worker, started_at, finished_at)
             values ((p->'settled'->>'id')::uuid, v_execution, (p->'settled'->>'role')::step_role,
               (p->'settled'->>'position')::int, (p->'settled'->>'member')::int, p->'settled'->>'task',
               p->'settled'->>'queue', nullif(p->'settled'->'args', 'null'::jsonb), p->'settled'->>'resource_ref',
               nullif(p->'settled'->'before', 'null'::jsonb), (p->'settled'->>'ignore_errors')::boolean,
               (p->'settled'->>'throttled')::boolean, now(), 'succeeded', p->'settled'->>'worker', now(), now());
         end if;`;

/**
 * A resource patch by compare-and-set on the version read (the row's table, id, version and `set`
 * in the jsonb variable `resource`, the patch in `v_set`): the version after into `v_version`, null
 * when the row is not at that version. Each line starts with `indent`.
 */
export function resourcePatchSql(resource: string, indent: string): string {
  return [
    `select string_agg(format('%I', k), ', ') into v_columns from jsonb_object_keys(v_set) as k;`,
    'execute format(',
    `  'update %I t set version = t.version + 1, modified_at = now(), (%s) = (select %s from jsonb_populate_record(null::%I, $3)) where t.id = $1 and t.version = $2 returning t.version',`,
    `  ${resource}->>'table', v_columns, v_columns, ${resource}->>'table')`,
    `  into v_version using (${resource}->>'id')::uuid, (${resource}->>'version')::int, v_set;`,
  ]
    .map((line) => indent + line)
    .join('\n');
}

/**
 * The insert of events (outbox rows, due now; leased for `lease_ms` when given) from the jsonb
 * array `events`. Each line starts with `indent`.
 */
export function eventsInsertSql(events: string, indent: string): string {
  return [
    'insert into jetcel_outbox (id, subject, payload, headers, not_before, lease_until)',
    `  select (x->>'id')::uuid, x->>'subject', x->>'payload', coalesce(x->'headers', '{}'::jsonb), now(),`,
    `      case when x ? 'lease_ms' then now() + ((x->>'lease_ms')::int * interval '1 millisecond') end`,
    `    from jsonb_array_elements(${events}) as x;`,
  ]
    .map((line) => indent + line)
    .join('\n');
}
