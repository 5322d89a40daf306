import { resourcePatchSql } from './step-commit-sql.ts';

/**
 * The columns a one-statement commit may patch (`planResourceCommit`: a transition, error fields,
 * runtime state, backend id, action; never a domain's own fields), each with the type every
 * resource table gives it and how its value is read from the patch's jsonb.
 */
export const PATCHABLE_COLUMNS: readonly { name: string; type: string; value: string }[] = [
  { name: 'state', type: 'resource_state', value: "(v_set->>'state')::resource_state" },
  { name: 'error_message', type: 'text', value: "v_set->>'error_message'" },
  { name: 'error_traceback', type: 'text', value: "v_set->>'error_traceback'" },
  { name: 'action', type: 'character varying', value: "v_set->>'action'" },
  { name: 'action_details', type: 'jsonb', value: "v_set->'action_details'" },
  { name: 'runtime_state', type: 'character varying', value: "v_set->>'runtime_state'" },
  { name: 'backend_id', type: 'character varying', value: "v_set->>'backend_id'" },
];

/** A resource table's name as an SQL identifier. */
function identifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** A string as an SQL literal. */
function literal(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/** The static update of one table: every patchable column, each set only when the patch names it. */
function staticUpdate(table: string): string {
  const assignments = PATCHABLE_COLUMNS.map(
    ({ name, value }) =>
      `${identifier(name)} = case when v_set ? ${literal(name)} then ${value} else t.${identifier(name)} end`,
  );
  return [
    `           when ${literal(table)} then`,
    `             update ${identifier(table)} t set version = t.version + 1, modified_at = now(),`,
    `                 ${assignments.join(',\n                 ')}`,
    `               where t.id = v_id and t.version = v_expected returning t.version into v_version;`,
    '             return v_version;',
  ].join('\n');
}

/**
 * `jetcel_patch_resource(p_resource jsonb)`: a resource patch by compare-and-set on the version
 * read (`table`, `id`, `version`, `set`), answering the version after, or null when the row is not
 * at that version. For each table in `tables` it is a static update, planned once per connection;
 * any other table, or a patch of other columns, goes through dynamic SQL, parsed and planned at
 * every call. The migrate job writes it again after every migration run, with the resource tables
 * it finds then (`refreshResourcePatch`).
 */
export function resourcePatchFunctionSql(tables: readonly string[]): string {
  const known = PATCHABLE_COLUMNS.map(({ name }) => literal(name)).join(', ');
  // Only the patchable columns named, and a table known: its static update. Anything else falls through.
  const byTable =
    tables.length === 0
      ? ''
      : [
          `       if (v_set - array[${known}]) = '{}'::jsonb then`,
          `         case p_resource->>'table'`,
          ...[...tables].sort().map(staticUpdate),
          '           else null;',
          '         end case;',
          '       end if;',
        ].join('\n');
  return `create or replace function jetcel_patch_resource(p_resource jsonb) returns int language plpgsql as $body$
     declare
       v_set jsonb := p_resource->'set';
       v_id uuid := (p_resource->>'id')::uuid;
       v_expected int := (p_resource->>'version')::int;
       v_columns text;
       v_version int;
     begin
${byTable}
${resourcePatchSql('p_resource', '       ')}
       return v_version;
     end
     $body$`;
}

/**
 * The resource tables (commented `jetcel-resource:…`) whose patchable columns all have the types
 * `PATCHABLE_COLUMNS` expects: those `jetcel_patch_resource` updates statically.
 */
export const RESOURCE_PATCH_TABLES_SQL = `select c.relname as name
  from pg_class c join pg_namespace n on n.oid = c.relnamespace
  where c.relkind = 'r' and n.nspname = current_schema()
    and obj_description(c.oid, 'pg_class') like 'jetcel-resource:%'
    and (select count(*) from information_schema.columns k
          where k.table_schema = n.nspname and k.table_name = c.relname
            and (k.column_name, case when k.data_type = 'USER-DEFINED' then k.udt_name else k.data_type end) in (${PATCHABLE_COLUMNS.map(
              ({ name, type }) => `(${literal(name)}, ${literal(type)})`,
            ).join(', ')})) = ${PATCHABLE_COLUMNS.length}
  order by 1`;
