import type { SqlMigration } from '../migrate.ts';
import { stepCommitFunctionSql } from './step-commit-sql.ts';

/**
 * The one-statement step commit, for every step done without a handler of its own to run first:
 * lock the execution, check the claim, apply the resource patch by compare-and-set on the version
 * the step saw (or only read the version, so the next step may keep the snapshot), record the
 * result, drop the step's fallback row, then either insert the next step already claimed with its
 * fallback row, or end the execution as succeeded (leaving its throttle queue); insert the
 * resource's events. It answers `slow` (nothing written) when the execution is not simply running,
 * when it ends a nested execution, or when the resource changed since the step read it; then the
 * caller commits through the stores. A lost claim answers `claim_lost`. It never raises for
 * either, so it needs no savepoint of its own in a shared statement.
 */
export const stepCommitGeneral: SqlMigration = {
  name: 'm012_step_commit_general',
  up: [stepCommitFunctionSql({ settled: false })],
  down: ['drop function if exists jetcel_commit_step(jsonb)'],
};
