import pg from 'pg';
import { RESOURCE_PATCH_TABLES_SQL, resourcePatchFunctionSql } from './migrations/resource-patch-function.ts';

/**
 * Writes `jetcel_patch_resource` (m023) again with a static update for each resource table the
 * database has now; the migrate job runs it after every migration run, so a domain's new resource
 * table is patched statically from then on (until then, by dynamic SQL). Nothing before m023.
 * Answers the tables patched statically, or null without the function.
 */
export async function refreshResourcePatch(url: string): Promise<string[] | null> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('begin');
    // two migrate jobs at once would both replace the function: one at a time
    await client.query(`select pg_advisory_xact_lock(hashtext('jetcel_patch_resource'))`);
    const { rows } = await client.query<{ present: boolean }>(
      `select to_regprocedure('jetcel_patch_resource(jsonb)') is not null as present`,
    );
    if (!rows[0]?.present) {
      await client.query('rollback');
      return null;
    }
    const tables = (await client.query<{ name: string }>(RESOURCE_PATCH_TABLES_SQL)).rows.map((row) => row.name);
    await client.query(resourcePatchFunctionSql(tables));
    await client.query('commit');
    return tables;
  } finally {
    await client.end();
  }
}
