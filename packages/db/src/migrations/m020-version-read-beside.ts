import type { SqlMigration } from '../migrate.ts';
import { stepCommitFunctionSql } from './step-commit-sql.ts';

/**
 * A step commit without a patch reads its resource's version for the next step. Inside the
 * function that read was dynamic SQL (the table is a value), parsed and planned at every commit:
 * 18 % of the function's time in a five-step execution. The batched statement that calls the
 * function now reads it with a join of its own, planned once per connection; the function skips
 * the read for a resource marked `read_beside`.
 */
export const versionReadBeside: SqlMigration = {
  name: 'm020_version_read_beside',
  up: [stepCommitFunctionSql({ settled: true, fallbackByKey: true, versionReadBeside: true })],
  down: [stepCommitFunctionSql({ settled: true, fallbackByKey: true })],
};
