import type { SqlMigration } from '../migrate.ts';
import { stepCommitFunctionSql } from './step-commit-sql.ts';

const BEFORE = { settled: true, fallbackByKey: true, versionReadBeside: true, patchByFunction: true };

/**
 * A step commit that claims the next step for its worker no longer writes that step's message to
 * the outbox as a fallback, nor deletes the finished step's: the claimed step's row is the record a
 * dead worker leaves, and the reconciler re-queues it (with its message) once the claim expired.
 * A `message` or `fallback` from a worker of an earlier version is ignored; its fallback rows, if
 * published, meet a finished or live claim and are skipped. A caller that sends `brief` gets the
 * transaction's time instead of the next step's row (it knows the rest: it sent it); others still
 * get the row.
 */
export const localStepsWithoutFallbackRows: SqlMigration = {
  name: 'm024_local_steps_without_fallback_rows',
  up: [stepCommitFunctionSql({ ...BEFORE, withoutFallbackRows: true, briefAnswer: true })],
  down: [stepCommitFunctionSql(BEFORE)],
};
