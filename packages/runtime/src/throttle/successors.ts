import { formatResourceRef, parseResourceRef } from '@jetcel/contracts';
import { isEmptyPatch, type ResourceSnapshot } from '@jetcel/core';
import type { Db, ExecutionLease, StepRecord, StepCommitResult, SuccessorPlan } from '@jetcel/db';
import type { Claimed } from '../step/prepare.ts';

/** A waiter's first transition as planned, and its resource as that transition leaves it. */
export interface PlannedSuccessor {
  plan: SuccessorPlan;
  snapshot: ResourceSnapshot;
}

/** What the commit that handed the slot on says of the plan it applied. */
export type AppliedSuccessor = NonNullable<Extract<StepCommitResult, { kind: 'committed' }>['successor']>;

/** A waiter next in line as read while the span's last task ran. */
interface NextInLine {
  step: StepRecord;
  actor: string | null;
  current: ResourceSnapshot;
}

/**
 * The waiters next in line and their resources, read while a span's last task runs (one read of
 * the waiters, one of their resources), so the commit that hands the slot on applies the chosen
 * waiter's first transition too and the waiter starts without a commit of its own. A commit never
 * waits for the read: if it is not done, nothing is sent. Waiters that arrive after the read are
 * not planned for; the commit checks each plan's resource version, so a stale read only falls back.
 */
export class SuccessorPlans {
  #next: NextInLine[] = [];

  constructor(
    private readonly db: Db,
    pending: Promise<NextInLine[]>,
  ) {
    void pending.then((next) => {
      this.#next = next;
    });
  }

  /** Their first transitions, planned now (so their events carry the time of the commit that applies them). */
  ready(): PlannedSuccessor[] {
    const plans: PlannedSuccessor[] = [];
    for (const { step, actor, current } of this.#next) {
      const planned = this.db.resourceCommit(current, pendingBefore(step), { executionId: step.executionId, actor });
      if (planned)
        plans.push({
          plan: { stepId: step.id, resource: planned.resource, events: planned.events },
          snapshot: planned.snapshot,
        });
    }
    return plans;
  }
}

/** Reads the first `count` ready waiters of the lease's scope and their resources; none on any failure. */
export function planSuccessors(db: Db, lease: ExecutionLease, count: number): SuccessorPlans {
  return new SuccessorPlans(
    db,
    readNextInLine(db, lease, count).catch((): NextInLine[] => []),
  );
}

async function readNextInLine(db: Db, lease: ExecutionLease, count: number): Promise<NextInLine[]> {
  const { waiters, resources } = await db.read(async (tx) => {
    const waiting = await tx.throttle.nextInLine(lease.kind, lease.scope, count);
    const known = new Set(db.resourceTypes());
    const byType = new Map<string, string[]>();
    for (const { step } of waiting) {
      const ref = step.resourceRef ? parseResourceRef(step.resourceRef) : null;
      if (ref && known.has(ref.type)) byType.set(ref.type, [...(byType.get(ref.type) ?? []), ref.id]);
    }
    const read: ResourceSnapshot[] = [];
    for (const [type, ids] of byType) read.push(...(await tx.resources.getMany(type, ids)));
    return { waiters: waiting, resources: read };
  });
  return waiters.flatMap(({ step, actor }) => {
    const current = resources.find((resource) => step.resourceRef === formatResourceRef(resource));
    return current ? [{ step, actor, current }] : [];
  });
}

/** The step's `before` patch if it is still to apply. */
function pendingBefore(step: StepRecord): StepRecord['before'] {
  return !step.prepared && step.before && !isEmptyPatch(step.before) ? step.before : null;
}

/** The waiter handed the slot, prepared by the commit's applied plan: its resource as the plan left it. */
export function preparedBy(claimed: Claimed, applied: AppliedSuccessor, sent: PlannedSuccessor[]): Claimed {
  const planned = sent.find((candidate) => candidate.plan.stepId === applied.stepId);
  if (!planned || claimed.step.id !== applied.stepId) return claimed;
  const patched = applied.modifiedAt !== null;
  return {
    ...claimed,
    step: patched ? { ...claimed.step, prepared: true } : claimed.step,
    resource: {
      ...planned.snapshot,
      version: applied.version,
      ...(applied.modifiedAt ? { modifiedAt: applied.modifiedAt } : {}),
    },
  };
}
