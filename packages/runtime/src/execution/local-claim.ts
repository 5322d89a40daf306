import type { TaskLane } from '@jetcel/contracts';
import type { ResourceSnapshot, StepRole } from '@jetcel/core';
import type { ExecutionRecord, StepRecord, Tx } from '@jetcel/db';

/**
 * A step commit's offer of its worker's slot to the next step it queues: that step is inserted
 * already claimed by this worker, with no message. If the worker dies before the step commits,
 * the reconciler re-queues it once the claim expired and publishes it then.
 */
export interface LocalClaimOffer {
  executionId: string;
  queue: string;
  worker: string;
  token: string;
  ttlMs: number;
  /** Whether this worker runs that task here (a nested executor's step, an unknown task: published). */
  runs: (task: string) => boolean;
  /** Whether the slot serves the long lane: a short-lane slot publishes a long-lane step instead of keeping it. */
  longAllowed: boolean;
  /** False in a throttled plan: its main steps pass through admission on a delivery of their own. */
  mainAllowed: boolean;
  /** The execution as the commit locked it (set by the commit). */
  execution: ExecutionRecord | null;
  /**
   * Filled by the insert that took the offer; `resource`: the snapshot the step before saw, when
   * the commit found the resource still at its version (the next step needs no read).
   */
  taken: { step: StepRecord; resource?: ResourceSnapshot } | null;
}

const offers = new WeakMap<Tx, LocalClaimOffer>();

/** A slot's offer, not yet made to any commit. */
export function newOffer(slot: Omit<LocalClaimOffer, 'mainAllowed' | 'execution' | 'taken'>): LocalClaimOffer {
  return { ...slot, mainAllowed: false, execution: null, taken: null };
}

/** Offers the slot to the first eligible step this transaction queues. */
export function offerLocalClaim(tx: Tx, offer: LocalClaimOffer, execution: ExecutionRecord): void {
  resetOffer(offer, execution);
  offers.set(tx, offer);
}

/** The offer as a commit of this execution makes it; a group commit may run a work again, so nothing of an earlier try is kept. */
export function resetOffer(offer: LocalClaimOffer, execution: ExecutionRecord): void {
  offer.taken = null;
  offer.execution = execution;
  offer.mainAllowed = !execution.plan.throttle;
}

/**
 * The offer, if this step may take it: the execution that committed, this worker's queue, due now,
 * and not yet taken. The caller records what it inserted in `taken`.
 */
export function localClaimFor(tx: Tx, step: OfferedStep): LocalClaimOffer | null {
  const offer = offers.get(tx);
  return offer && mayTake(offer, step) ? offer : null;
}

/** The step a commit queues, as an offer sees it; without a lane: short. */
export interface OfferedStep {
  executionId: string;
  queue: string;
  role: StepRole;
  task: string;
  notBefore: Date | null;
  lane?: TaskLane;
}

/**
 * Whether the step may take the offer: the execution that committed, this worker's queue, due now,
 * not yet taken, and the slot's lane (a long-lane step stays only in a long-lane slot).
 */
export function mayTake(offer: LocalClaimOffer, step: OfferedStep): boolean {
  if (offer.taken || step.notBefore) return false;
  if (step.lane === 'long' && !offer.longAllowed) return false;
  if (offer.executionId !== step.executionId || offer.queue !== step.queue) return false;
  return (step.role !== 'main' || offer.mainAllowed) && offer.runs(step.task);
}
