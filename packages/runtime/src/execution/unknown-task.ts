import { parseResourceRef } from '@jetcel/contracts';
import { describeFailure, failurePatch, failureSchema, type FailureInfo, type Logger } from '@jetcel/core';
import type { StepRecord, Tx } from '@jetcel/db';
import type { SpanEnded, ThrottledSpan } from '../throttle/span.ts';
import type { Progress } from './progress.ts';

export interface UnknownTaskDeps<S> {
  progress: Progress;
  /** Null without a throttle gate. */
  span: ThrottledSpan<S> | null;
}

/** An unknown task's step failing its execution: the work in the dead letter's commit, then what follows it. */
export interface UnknownTaskFailure {
  /** In the dead letter's transaction, after its step was marked dead. */
  inCommit: (tx: Tx) => Promise<void>;
  /** After that COMMIT: a slot handed on moves its key to the waiter. */
  afterCommit: () => Promise<void>;
}

/**
 * The message of a step whose task no worker knows is dead-lettered: in that same transaction the
 * step fails for good with any final failure (the failure handler is queued, or the execution
 * ends), and a scope lease the execution holds is passed on once its main chain has ended. A
 * failure anywhere leaves neither the dead letter nor the step's failure.
 */
export function failUnknownTaskStep<S>(
  deps: UnknownTaskDeps<S>,
  stepId: string,
  what: string,
  log: Logger,
): UnknownTaskFailure {
  const failure: FailureInfo = {
    message: `${what} is unknown to every worker: its step was dead-lettered after the grace period`,
    traceback: '',
    errorName: 'UnknownTaskError',
  };
  let ended: SpanEnded<S> | null = null;
  return {
    inCommit: async (tx) => {
      ended = null;
      const step = await tx.steps.get(stepId);
      if (!step) return;
      const execution = await tx.executions.lock(step.executionId);
      if (!execution || (execution.status !== 'running' && execution.status !== 'cancel_requested')) return;
      if (!(await tx.steps.failDead(step.id, failure))) return;
      log.warn('step failed', { error: failure.message });
      if (step.role === 'failure') await erredWithoutHandler(tx, step, failure, execution.actor, log);
      await deps.progress.stepFailed(tx, execution, step, failure);
      // The span ends in this same commit: its slot goes to the next waiter (or is freed).
      ended = execution.lease && deps.span ? await deps.span.endInCommit(tx, step, execution.lease) : null;
    },
    afterCommit: async () => {
      if (ended) await deps.span?.afterCommit(ended, log);
    },
  };
}

/**
 * The failure handler itself is the unknown task: nothing can run it, so the resource gets what
 * the built-in handler writes (ERRED with the execution's failure) instead of staying mid-operation.
 */
async function erredWithoutHandler(
  tx: Tx,
  step: StepRecord,
  failure: FailureInfo,
  actor: string | null,
  log: Logger,
): Promise<void> {
  if (!step.resourceRef) return;
  const ref = parseResourceRef(step.resourceRef);
  const current = await tx.resources.get(ref.type, ref.id, { forUpdate: true });
  if (!current) return;
  const args = step.args !== null && typeof step.args === 'object' && !Array.isArray(step.args) ? step.args : {};
  const handed = failureSchema.safeParse(args.failure);
  try {
    await tx.resources.applyPatch(current, failurePatch(handed.success ? handed.data : failure, current), {
      executionId: step.executionId,
      actor,
    });
  } catch (error) {
    // A state the built-in handler cannot leave (already gone, or moved on): the execution still ends.
    log.warn('the resource could not be marked ERRED without its failure handler', {
      error: describeFailure(error).message,
    });
  }
}
