import { randomUUID } from 'node:crypto';
import { continueAfterSuccess, isEmptyPatch, isGroup, type Logger, type StepOutcome } from '@jetcel/core';
import { ClaimLostError, type Db, type DoneAndClaimNext } from '@jetcel/db';
import { stepLane } from '../execution/lane.ts';
import { mayTake, resetOffer, type LocalClaimOffer } from '../execution/local-claim.ts';
import { planStep, type TaskCatalog } from '../execution/queue-step.ts';
import { stepMessage } from '../execution/step-messages.ts';
import type { RunResult } from '../run/run-task.ts';
import type { LocalCommit } from './commit.ts';
import type { Claimed } from './prepare.ts';

/**
 * The step commit in one round trip, for the common case: a main step done with no patch, its
 * next node one step (or the success handler's first call) that this worker claims. Handler
 * calls after the first commit through `commit.ts`. Decided from the plan
 * before any I/O; null when the case does not apply.
 */
export function planFastCommit(
  catalog: TaskCatalog,
  claimed: Claimed,
  token: string,
  result: RunResult,
  local: LocalCommit,
  longPlanSteps?: number,
): { input: DoneAndClaimNext; offer: LocalClaimOffer } | null {
  const { step, execution } = claimed;
  const { offer } = local;
  if (!offer || result.kind !== 'outcome' || result.outcome.kind !== 'done' || step.role !== 'main') return null;
  // Entity writes flush in a store transaction: the one statement cannot carry them.
  if (result.entities) return null;
  const finished = result.outcome;
  if ((finished.patch && !isEmptyPatch(finished.patch)) || (finished.also?.length ?? 0) > 0) return null;
  // Executions to schedule commit through the stores (preApply, the plan, the first step).
  if ((finished.schedule?.length ?? 0) > 0) return null;
  const node = execution.plan.steps[step.position];
  if (!node || isGroup(node)) return null;
  const next = continueAfterSuccess(execution.plan, 'main', step.position);
  const input =
    next.kind === 'queue_node' && !isGroup(next.node)
      ? { role: 'main' as const, position: next.position, call: next.node }
      : next.kind === 'queue_handler'
        ? { role: next.role, position: next.position, call: next.call }
        : null;
  if (!input) return null;
  const planned = planStep(catalog, execution, input);
  const lane = stepLane(execution.plan, input, longPlanSteps);
  resetOffer(offer, execution);
  if (!mayTake(offer, { ...planned, lane })) return null;
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
        ...stepMessage({ ...planned, attempts: 1 }, execution.actor, lane),
        notBefore: new Date(Date.now() + offer.ttlMs),
      },
    },
  };
}

/**
 * Commits a planned fast commit (none planned: null at once): the result, the step's fallback row dropped, the next step
 * inserted claimed with its own fallback row, in one statement (see `Db.commitStepDone`). Null
 * when its execution is not simply running (a cancel, an end): then commit through the stores.
 */
export async function commitFast(
  db: Db,
  plan: { input: DoneAndClaimNext; offer: LocalClaimOffer } | null,
  log: Logger,
): Promise<StepOutcome | null> {
  if (!plan) return null;
  const committed = await db.commitStepDone(plan.input);
  if (committed.kind === 'slow') return null;
  if (committed.kind === 'claim_lost') throw new ClaimLostError(plan.input.stepId);
  plan.offer.taken = { step: committed.step, fallbackRowId: plan.input.fallback.id };
  log.info('step succeeded');
  return 'succeeded';
}
