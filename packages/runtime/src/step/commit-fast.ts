import { parseResourceRef } from '@jetcel/contracts';
import {
  BUILTIN_TASKS,
  continueAfterSuccess,
  isEmptyPatch,
  isGroup,
  setOkPatch,
  type Continuation,
  type Logger,
  type Plan,
  type StepOutcome,
} from '@jetcel/core';
import {
  ClaimLostError,
  type ClaimedNext,
  type Db,
  type Passed,
  type PassInput,
  type PlannedResourceCommit,
  type StepCommit,
  type StepCommitResult,
} from '@jetcel/db';
import { stepLane } from '../execution/lane.ts';
import { mayTake, resetOffer, type LocalClaimOffer } from '../execution/local-claim.ts';
import { planStep, type TaskCatalog } from '../execution/queue-step.ts';
import type { RunResult } from '../run/run-task.ts';
import type { Claimed } from './prepare.ts';

/** A planned one-statement commit, and the slot offered to its next step (none when it ends the execution). */
export interface FastCommit {
  input: StepCommit;
  offer: LocalClaimOffer | null;
  /** The resource as the step saw it, kept for the next step if the commit finds it unchanged. */
  seen: Claimed['resource'];
  /** Filled by the commit when it ends a throttled span: whom the slot went to. */
  passed: Passed | null;
  /** Filled by the commit when the waiter handed the slot had its first transition planned and applied in it. */
  successor?: StepCommitResultSuccessor;
}

type StepCommitResultSuccessor = NonNullable<Extract<StepCommitResult, { kind: 'committed' }>['successor']>;

/**
 * The step commit in one round trip, for the common case: a main step or the success handler
 * done, with no patch or a patch of the resource's own columns, whose next node is one step (or
 * a success handler's call) that this worker claims, or the end of the execution. Decided from the plan
 * before any I/O; null when the case does not apply. With `pass`, the step ends a throttled span
 * and the same statement passes its slot on.
 */
export function planFastCommit(
  db: Pick<Db, 'resourceCommit'>,
  catalog: TaskCatalog,
  claimed: Claimed,
  token: string,
  result: RunResult,
  offer: LocalClaimOffer | null,
  longPlanSteps?: number,
  pass?: PassInput,
): FastCommit | null {
  const { step, execution } = claimed;
  if (result.kind !== 'outcome' || result.outcome.kind !== 'done' || step.role === 'failure') return null;
  // Entity writes flush in a store transaction: the one statement cannot carry them.
  if (result.entities) return null;
  const finished = result.outcome;
  if ((finished.also?.length ?? 0) > 0) return null;
  // Executions to schedule commit through the stores (preApply, the plan, the first step).
  if ((finished.schedule?.length ?? 0) > 0) return null;
  if (step.role === 'main') {
    const node = execution.plan.steps[step.position];
    if (!node || isGroup(node)) return null;
  }
  const next = continueAfterSuccess(execution.plan, step.role, step.position);
  const patch = finished.patch && !isEmptyPatch(finished.patch) ? finished.patch : null;
  const seen = claimed.resource;
  if (step.role === 'main' && !patch && settlesHere(execution.plan, next) && seen && step.resourceRef) {
    // The success handler only sets the resource OK: this commit applies that and ends the execution.
    const handler = planStep(catalog, execution, { role: 'success', position: 0, call: next.call });
    const context = { executionId: execution.id, actor: execution.actor };
    const resource =
      handler.resourceRef === step.resourceRef && sameResource(step.resourceRef, seen)
        ? db.resourceCommit(seen, setOkPatch(), context)
        : null;
    if (resource)
      return {
        offer: null,
        seen: undefined,
        input: {
          stepId: step.id,
          token,
          result: finished.result,
          next: null,
          finish: true,
          resource: resource.resource,
          events: resource.events,
          settled: { step: handler, worker: offer?.worker ?? null },
          ...(pass ? { pass } : {}),
        },
        passed: null,
      };
  }
  const call =
    next.kind === 'queue_node' && !isGroup(next.node)
      ? { role: 'main' as const, position: next.position, call: next.node }
      : next.kind === 'queue_handler'
        ? { role: next.role, position: next.position, call: next.call }
        : null;
  if (!call && !(next.kind === 'finish' && next.status === 'succeeded')) return null;
  let claimedNext: ClaimedNext | null = null;
  if (call) {
    if (!offer) return null;
    const planned = planStep(catalog, execution, call);
    const lane = stepLane(execution.plan, call, longPlanSteps);
    resetOffer(offer, execution);
    if (!mayTake(offer, { ...planned, lane })) return null;
    claimedNext = { step: { ...planned, claim: { token: offer.token, worker: offer.worker, ttlMs: offer.ttlMs } } };
  }
  let resource: PlannedResourceCommit | null = null;
  if (patch || (claimedNext && claimedNext.step.resourceRef === step.resourceRef)) {
    const matches = seen && step.resourceRef && sameResource(step.resourceRef, seen);
    if (matches) resource = db.resourceCommit(seen, patch, { executionId: execution.id, actor: execution.actor });
    // A patch the statement cannot apply (a delete, domain fields; no snapshot): through the stores.
    if (patch && !resource) return null;
  }
  return {
    offer: claimedNext ? offer : null,
    seen: patch ? undefined : seen,
    input: {
      stepId: step.id,
      token,
      result: finished.result,
      next: claimedNext,
      finish: claimedNext === null,
      resource: resource?.resource ?? null,
      events: resource?.events ?? [],
      ...(pass ? { pass } : {}),
    },
    passed: null,
  };
}

/** The next node is the success handler's one call, `jetcel.set_ok` as planned (no first transition, no delay). */
function settlesHere(
  plan: Plan,
  next: Continuation,
): next is Extract<Continuation, { kind: 'queue_handler' }> & { role: 'success' } {
  if (next.kind !== 'queue_handler' || next.role !== 'success' || next.position !== 0) return false;
  const { call } = next;
  if (call.task !== BUILTIN_TASKS.setOk || call.before || (call.startDelayMs ?? 0) > 0) return false;
  const after = continueAfterSuccess(plan, 'success', 0);
  return after.kind === 'finish' && after.status === 'succeeded';
}

function sameResource(ref: string, seen: { type: string; id: string }): boolean {
  const parsed = parseResourceRef(ref);
  return parsed.type === seen.type && parsed.id === seen.id;
}

/**
 * Commits a planned fast commit (none planned: null at once) in one statement (see
 * `Db.commitStep`). Null when its execution is not simply running (a cancel, an end) or its
 * resource changed meanwhile: then commit through the stores.
 */
export async function commitFast(db: Db, plan: FastCommit | null, log: Logger): Promise<StepOutcome | null> {
  if (!plan) return null;
  const committed = await db.commitStep(plan.input);
  if (committed.kind === 'slow') return null;
  if (committed.kind === 'claim_lost') throw new ClaimLostError(plan.input.stepId);
  if (plan.offer && plan.input.next && committed.step) {
    // The snapshot the step saw is still the resource's: the next step needs no read of its own.
    const kept = plan.seen && committed.version === plan.seen.version ? plan.seen : undefined;
    plan.offer.taken = { step: committed.step, ...(kept ? { resource: kept } : {}) };
  }
  plan.passed = committed.passed ?? null;
  if (committed.successor) plan.successor = committed.successor;
  log.info('step succeeded');
  if (plan.input.settled) log.info('success handler settled in the commit', { handler: plan.input.settled.step.task });
  return 'succeeded';
}
