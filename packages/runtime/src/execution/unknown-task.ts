import type { FailureInfo, Logger } from '@jetcel/core';
import type { Db } from '@jetcel/db';
import type { ThrottledSpan } from '../throttle/span.ts';
import type { Progress } from './progress.ts';

export interface UnknownTaskDeps<S> {
  db: Db;
  progress: Progress;
  /** Null without a throttle gate. */
  span: ThrottledSpan<S> | null;
}

/**
 * After the message of a step whose task no worker knows was dead-lettered: the step fails for
 * good, in the same commit as any final failure (the failure handler is queued, or the execution
 * ends), and a scope lease the execution holds is passed on once its main chain has ended.
 */
export async function failUnknownTaskStep<S>(
  deps: UnknownTaskDeps<S>,
  stepId: string,
  what: string,
  log: Logger,
): Promise<void> {
  const failure: FailureInfo = {
    message: `${what} is unknown to every worker: its step was dead-lettered after the grace period`,
    traceback: '',
    errorName: 'UnknownTaskError',
  };
  const failed = await deps.db.transaction(async (tx) => {
    const step = await tx.steps.get(stepId);
    if (!step) return null;
    const execution = await tx.executions.lock(step.executionId);
    if (!execution || (execution.status !== 'running' && execution.status !== 'cancel_requested')) return null;
    if (!(await tx.steps.failDead(step.id, failure))) return null;
    log.warn('step failed', { error: failure.message });
    await deps.progress.stepFailed(tx, execution, step, failure);
    return { step, lease: execution.lease };
  });
  if (failed?.lease) await deps.span?.afterLeasedCommit(failed.step, failed.lease, log);
}
