import { randomUUID } from 'node:crypto';
import { continueAfterSuccess, isEmptyPatch, isGroup, type Logger, type StepOutcome } from '@jetcel/core';
import { ClaimLostError, type Db, type DoneAndClaimNext, type Passed, type PassInput } from '@jetcel/db';
import { mayTake, resetOffer, type LocalClaimOffer } from '../execution/local-claim.ts';
import { planStep, type TaskCatalog } from '../execution/queue-step.ts';
import { stepMessage } from '../execution/step-messages.ts';
import type { RunResult } from '../run/run-task.ts';
import type { LocalCommit } from './commit.ts';
import type { Claimed } from './prepare.ts';

/** A planned one-statement commit; `passed` is filled by the commit when it ends a throttled span. */
export interface FastCommit {
  input: DoneAndClaimNext;
  offer: LocalClaimOffer;
  passed: Passed | null;
}

/**
 * The step commit in one round trip, for the common case: a main step done with no patch, its
 * next node one step (or the success handler) that this worker claims. Decided from the plan
 * before any I/O; null when the case does not apply. With `pass`, the step ends a throttled span
 * and the same statement passes its slot on.
 */
export function planFastCommit(
  catalog: TaskCatalog,
  claimed: Claimed,
  token: string,
  result: RunResult,
  local: LocalCommit,
  pass?: PassInput,
): FastCommit | null {
  const { step, execution } = claimed;
  const { offer } = local;
  if (!offer || result.kind !== 'outcome' || result.outcome.kind !== 'done' || step.role !== 'main') return null;
  const finished = result.outcome;
  if ((finished.patch && !isEmptyPatch(finished.patch)) || (finished.also?.length ?? 0) > 0) return null;
  const node = execution.plan.steps[step.position];
  if (!node || isGroup(node)) return null;
  const next = continueAfterSuccess(execution.plan, 'main', step.position);
  const input =
    next.kind === 'queue_node' && !isGroup(next.node)
      ? { role: 'main' as const, position: next.position, call: next.node }
      : next.kind === 'queue_handler'
        ? { role: next.role, position: 0, call: next.call }
        : null;
  if (!input) return null;
  const planned = planStep(catalog, execution, input);
  resetOffer(offer, execution);
  if (!mayTake(offer, planned)) return null;
  return {
    offer,
    input: {
      stepId: step.id,
      token,
      result: finished.result,
      fallbackRowId: local.fallbackRowId,
      next: { ...planned, claim: { token: offer.token, worker: offer.worker, ttlMs: offer.ttlMs } },
      fallback: {
        id: randomUUID(),
        ...stepMessage({ ...planned, attempts: 1 }, execution.actor),
        notBefore: new Date(Date.now() + offer.ttlMs),
      },
      ...(pass ? { pass } : {}),
    },
    passed: null,
  };
}

/**
 * Commits a planned fast commit (none planned: null at once): the result, the step's fallback row dropped, the next step
 * inserted claimed with its own fallback row, in one statement (see `Db.commitStepDone`). Null
 * when its execution is not simply running (a cancel, an end): then commit through the stores.
 */
export async function commitFast(db: Db, plan: FastCommit | null, log: Logger): Promise<StepOutcome | null> {
  if (!plan) return null;
  const committed = await db.commitStepDone(plan.input);
  if (committed.kind === 'slow') return null;
  if (committed.kind === 'claim_lost') throw new ClaimLostError(plan.input.stepId);
  plan.offer.taken = { step: committed.step, fallbackRowId: plan.input.fallback.id };
  plan.passed = committed.passed ?? null;
  log.info('step succeeded');
  return 'succeeded';
}
