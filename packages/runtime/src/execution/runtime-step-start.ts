import { describeFailure, type Logger } from '@jetcel/core';
import type { ExecutionRecord, StepRecord, Tx } from '@jetcel/db';
import type { Progress } from './progress.ts';

/** A step the runtime runs itself (a nested executor, a cleanup), with its execution locked. */
export interface RuntimeStepStart {
  execution: ExecutionRecord;
  /** Fails the step for good and moves its execution on (its failure handler). */
  fail: (error: unknown) => Promise<void>;
}

/**
 * Locks the step's execution and settles what every runtime step settles first: a gone execution
 * (null, nothing to do) and a cancel (the step ends cancelled, null). `failed` is the log line of a failure.
 */
export async function startRuntimeStep(
  tx: Tx,
  progress: Progress,
  step: StepRecord,
  token: string,
  log: Logger,
  failed: string,
): Promise<RuntimeStepStart | null> {
  const execution = await tx.executions.lock(step.executionId);
  if (!execution) return null;
  if (execution.status === 'cancel_requested') {
    await tx.steps.complete(step.id, token, { status: 'cancelled' });
    await progress.stepSucceeded(tx, execution, step);
    return null;
  }
  return {
    execution,
    fail: async (error) => {
      const failure = describeFailure(error);
      await tx.steps.complete(step.id, token, { status: 'failed', failure });
      log.warn(failed, { error: failure.message });
      await progress.stepFailed(tx, execution, step, failure);
    },
  };
}
