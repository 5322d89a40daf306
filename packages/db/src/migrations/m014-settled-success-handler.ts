import type { SqlMigration } from '../migrate.ts';
import { stepCommitFunction } from './m011-step-commit-function.ts';
import { stepCommitFunctionSql } from './step-commit-sql.ts';

/**
 * The one-statement step commit learns to settle a success handler that only sets its resource OK
 * (`jetcel.set_ok`): the last main step's commit applies the handler's patch, inserts the handler's
 * step as already succeeded and ends the execution, one commit instead of two. m011's
 * `jetcel_commit_step_done`, unused since m012, is dropped.
 */
export const settledSuccessHandler: SqlMigration = {
  name: 'm014_settled_success_handler',
  up: [
    stepCommitFunctionSql({ settled: true }),
    'drop function if exists jetcel_commit_step_done(uuid, uuid, jsonb, uuid, jsonb, jsonb)',
  ],
  down: [...stepCommitFunction.up, stepCommitFunctionSql({ settled: false })],
};
