import type { SqlMigration } from '../migrate.ts';
import { stepCommitFunctionSql } from './step-commit-sql.ts';

/**
 * The step commit deletes the committed step's fallback row by its key alone. With the row's
 * `published_at is null` in the condition, PL/pgSQL's cached generic plan chose the partial index
 * of unpublished rows and read it whole, filtering on the key: every step commit paid for every
 * fallback row in flight and every waiter's timer.
 */
export const fallbackDeleteByKey: SqlMigration = {
  name: 'm016_fallback_delete_by_key',
  up: [stepCommitFunctionSql({ settled: true, fallbackByKey: true })],
  down: [stepCommitFunctionSql({ settled: true })],
};
