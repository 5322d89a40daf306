import { match } from 'ts-pattern';
import { parseResourceRef } from '@jetcel/contracts';
import {
  decideOnError,
  decideOnPoll,
  describeFailure,
  isEmptyPatch,
  ResourceGoneError,
  ScheduleRefusedError,
  type FailureInfo,
  type Logger,
  type RelatedPatch,
  type ResourcePatch,
  type StepOutcome,
  type TaskDefinition,
} from '@jetcel/core';
import { ClaimLostError, type Db, type StepRecord, type Tx } from '@jetcel/db';
import type { Progress } from '../execution/progress.ts';
import type { RunResult } from '../run/run-task.ts';
import { requeueStep } from '../execution/step-messages.ts';
import { offerLocalClaim, type LocalClaimOffer } from '../execution/local-claim.ts';
import { scheduleRequested } from '../execution/schedule-requests.ts';

/**
 * One transaction: the step's result, its resource patches and events, and what comes next.
 * `offer`: the worker's slot offered to the next step this commit queues; null: publish it as usual.
 */
export async function commitStep<S>(
  tx: Tx,
  progress: Progress,
  task: TaskDefinition<unknown, S>,
  step: StepRecord,
  token: string,
  result: RunResult,
  log: Logger,
  offer: LocalClaimOffer | null = null,
): Promise<StepOutcome> {
  if (result.kind === 'error' && result.error instanceof ClaimLostError) throw result.error;
  const execution = await tx.executions.lock(step.executionId);
  if (!execution) throw new ClaimLostError(step.id);
  if (offer) offerLocalClaim(tx, offer, execution);
  const cancelling = execution.status === 'cancel_requested';
  const context = { executionId: execution.id, actor: execution.actor };
  const fail = async (failure: FailureInfo): Promise<StepOutcome> => {
    await tx.steps.complete(step.id, token, { status: 'failed', failure });
    log.warn('step failed', { error: failure.message });
    await progress.stepFailed(tx, execution, step, failure);
    return 'failed';
  };
  const requeue = async (delayMs: number, kind: 'poll' | 'retry', failure?: FailureInfo): Promise<StepOutcome> => {
    if (cancelling) {
      // No more polls or retries once cancelled: the step ends here and the cancel settles.
      await tx.steps.complete(step.id, token, { status: 'cancelled' });
      await progress.stepSucceeded(tx, execution, step);
      return 'cancelled';
    }
    await requeueStep(tx, step.id, token, execution.actor, {
      delayMs,
      attempt: kind === 'retry',
      poll: kind === 'poll',
      ...(failure ? { failure } : {}),
    });
    log.info(kind === 'poll' ? 'step polls again' : 'step retries after a transient error', {
      delayMs,
      ...(failure ? { error: failure.message } : {}),
    });
    return kind === 'poll' ? 'polled' : 'retried';
  };
  const failed = async (error: unknown): Promise<StepOutcome> => {
    const decision = decideOnError(task, step.attempts, error);
    if (decision.kind === 'retry') return requeue(decision.delayMs, 'retry', describeFailure(error));
    return fail(decision.failure);
  };
  // The task's own entity writes, in this transaction: a write the database refuses is the step's error.
  const flushEntities = async (): Promise<unknown> =>
    result.kind === 'outcome' && result.entities
      ? tx.flushEntities(result.entities).then(
          () => null,
          (error: unknown) => error ?? new Error('entity flush failed'),
        )
      : null;
  return match(result)
    .with({ kind: 'error' }, async ({ error }) => failed(error))
    .with({ kind: 'outcome' }, ({ outcome }) =>
      match(outcome)
        .with({ kind: 'poll' }, async (poll) => {
          const patched = await applyPatches(tx, step, poll.patch, [], context);
          if (patched) return fail(patched);
          const decision = decideOnPoll(task, step.polls + 1, poll.afterMs);
          if (decision.kind !== 'repoll') return fail(decision.failure);
          const refused = cancelling ? null : await flushEntities();
          return refused ? failed(refused) : requeue(decision.delayMs, 'poll');
        })
        .with({ kind: 'done' }, async (finished) => {
          const patched = await applyPatches(tx, step, finished.patch, finished.also ?? [], context);
          if (patched) return fail(patched);
          const refused = await flushEntities();
          if (refused) return failed(refused);
          // A refusal with onRefused 'fail' throws: see commitInGroup.
          if (finished.schedule?.length)
            await scheduleRequested(tx, progress, finished.schedule, { actor: execution.actor, log });
          await tx.steps.complete(step.id, token, {
            status: 'succeeded',
            ...(finished.result === undefined ? {} : { result: finished.result }),
          });
          log.info('step succeeded');
          await progress.stepSucceeded(tx, execution, step);
          return 'succeeded' as const;
        })
        .exhaustive(),
    )
    .exhaustive();
}

/**
 * A store commit in its own savepoint of a group transaction. When the outcome's schedule request
 * is refused (`onRefused: 'fail'`), nothing of the outcome is kept: the work runs again with the
 * refusal as the step's error, so the step fails (SCHEDULE_REFUSED is not retried).
 */
export async function commitInGroup<T>(
  db: Db,
  result: RunResult,
  work: (tx: Tx, result: RunResult) => Promise<T>,
): Promise<T> {
  try {
    return await db.groupTransaction((tx) => work(tx, result));
  } catch (error) {
    if (!(error instanceof ScheduleRefusedError)) throw error;
    return db.groupTransaction((tx) => work(tx, { kind: 'error', error }));
  }
}

/** Applies the task's patches to the rows as they are now; returns the failure if one cannot apply. */
async function applyPatches(
  tx: Tx,
  step: StepRecord,
  patch: ResourcePatch | undefined,
  also: RelatedPatch[],
  context: { executionId: string; actor: string | null },
): Promise<FailureInfo | null> {
  try {
    if (patch && !isEmptyPatch(patch) && step.resourceRef) {
      const ref = parseResourceRef(step.resourceRef);
      const current = await tx.resources.get(ref.type, ref.id, { forUpdate: true });
      // A failure handler whose resource is already gone has nothing left to write.
      if (current) await tx.resources.applyPatch(current, patch, context);
      else if (step.role !== 'failure') throw new ResourceGoneError(step.resourceRef);
    }
    for (const related of also) {
      const ref = parseResourceRef(related.ref);
      const current = await tx.resources.get(ref.type, ref.id, { forUpdate: true });
      if (!current) continue;
      await tx.resources.applyPatch({ ...current, version: related.version }, related.patch, context);
    }
    return null;
  } catch (error) {
    return describeFailure(error);
  }
}
