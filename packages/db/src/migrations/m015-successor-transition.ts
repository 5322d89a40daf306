import type { SqlMigration } from '../migrate.ts';
import { spanEndCommit } from './m013-span-end-commit.ts';
import { rewritten } from './rewrite.ts';
import { eventsInsertSql, resourcePatchSql } from './step-commit-sql.ts';

const [m013SpanEndSql = ''] = spanEndCommit.up;

const SUCCESSOR_DECLARE = `       v_plan jsonb;
       v_version int;
       v_successor jsonb;
       v_patched boolean;
`;

// After the pass: the plan for the waiter it handed the slot to, if the worker sent one.
const SUCCESSOR_APPLY = `       if v_pass.r_outcome = 'handed' and jsonb_typeof(p_pass->'successors') = 'array' then
         select x into v_plan from jsonb_array_elements(p_pass->'successors') as x
           where x->>'step' = v_pass.r_step->>'id' limit 1;
         if v_plan is not null then
           v_version := jetcel_apply_resource(v_plan->'resource');
           v_patched := v_version is not null and jsonb_typeof(v_plan->'resource'->'set') = 'object';
           if v_patched then
             update jetcel_step set prepared = true where id = (v_plan->>'step')::uuid;
${eventsInsertSql("v_plan->'events'", '             ')}
           end if;
           if v_version is not null then
             v_successor := jsonb_build_object('step', v_plan->>'step', 'version', v_version,
               'modified_at', case when v_patched then now() end);
           end if;
         end if;
       end if;
       return v_done || jsonb_build_object('pass', jsonb_build_object(
         'outcome', v_pass.r_outcome, 'step', v_pass.r_step, 'execution', v_pass.r_execution,
         'successor', v_successor));`;

/**
 * `jetcel_apply_resource(p_resource jsonb)`: a planned resource write, the patch (`patch`, SQL that
 * leaves the version after in `v_version`) by compare-and-set on the version read, or without a
 * `set` the version only checked. The version after, or null when the row is not as read.
 */
export function applyResourceSql(patch: string): string {
  return `create or replace function jetcel_apply_resource(p_resource jsonb) returns int language plpgsql as $body$
     declare
       v_set jsonb := p_resource->'set';
       v_columns text;
       v_version int;
     begin
       if jsonb_typeof(v_set) = 'object' then
${patch}
       else
         execute format('select version from %I where id = $1 and version = $2', p_resource->>'table')
           into v_version using (p_resource->>'id')::uuid, (p_resource->>'version')::int;
       end if;
       return v_version;
     end
     $body$`;
}

/**
 * A throttle hand-over in one durable commit: the span's last step (`jetcel_commit_step`), the
 * slot to the longest waiter (`jetcel_throttle_pass`) and, when the worker planned it while the
 * span's last task ran, that waiter's first transition (its resource patched by compare-and-set on
 * the version read, its step marked prepared, its events). A plan for another waiter, or a
 * resource changed since, is left out: the worker then prepares the waiter after COMMIT, as before.
 */
export const successorTransition: SqlMigration = {
  name: 'm015_successor_transition',
  up: [
    applyResourceSql(resourcePatchSql('p_resource', '         ')),
    rewritten('m015', m013SpanEndSql, [
      [/ {7}p_pass jsonb := p->'pass';\n/, `       p_pass jsonb := p->'pass';\n${SUCCESSOR_DECLARE}`, 1],
      [
        / {7}return v_done \|\| jsonb_build_object\('pass', jsonb_build_object\(\n\s+'outcome', v_pass\.r_outcome, 'step', v_pass\.r_step, 'execution', v_pass\.r_execution\)\);/,
        SUCCESSOR_APPLY,
        1,
      ],
    ]),
  ],
  down: [m013SpanEndSql, 'drop function if exists jetcel_apply_resource(jsonb)'],
};
