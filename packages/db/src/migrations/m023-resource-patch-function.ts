import type { SqlMigration } from '../migrate.ts';
import { applyResourceSql } from './m015-successor-transition.ts';
import { resourcePatchFunctionSql } from './resource-patch-function.ts';
import { resourcePatchSql, stepCommitFunctionSql } from './step-commit-sql.ts';

const BEFORE = { settled: true, fallbackByKey: true, versionReadBeside: true };

/**
 * A step commit's patch (a success handler's `set_ok` settled in the last step's commit, a
 * waiter's first transition in a hand-over) goes through `jetcel_patch_resource`, a static update
 * per resource table, planned once per connection, instead of dynamic SQL parsed and planned at
 * every call. This migration creates it with no table (all dynamic); the migrate job writes it
 * again with the resource tables it finds after every run (`refreshResourcePatch`).
 */
export const resourcePatchFunction: SqlMigration = {
  name: 'm023_resource_patch_function',
  up: [
    resourcePatchFunctionSql([]),
    stepCommitFunctionSql({ ...BEFORE, patchByFunction: true }),
    applyResourceSql('         v_version := jetcel_patch_resource(p_resource);'),
  ],
  down: [
    stepCommitFunctionSql(BEFORE),
    applyResourceSql(resourcePatchSql('p_resource', '         ')),
    'drop function if exists jetcel_patch_resource(jsonb)',
  ],
};
