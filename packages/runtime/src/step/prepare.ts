import { parseResourceRef } from '@jetcel/contracts';
import { isEmptyPatch, ResourceGoneError, type ResourcePatch, type ResourceSnapshot } from '@jetcel/core';
import type { Db, ExecutionRecord, StepRecord, Tx } from '@jetcel/db';

/** A claimed step, its execution, and (once prepared) its resource. */
export type Claimed = {
  step: StepRecord;
  execution: ExecutionRecord;
  /** Undefined: not read yet (`prepare` reads it, after the admission for a throttled step). */
  resource: ResourceSnapshot | null | undefined;
  preparationError: unknown;
};

/**
 * A step just claimed, prepared: its resource read once by `prepare` (locked when a patch
 * applies), unless `kept` (the commit before found it unchanged since the step before read it);
 * `deferred`: not yet, a throttle admission comes first.
 */
export async function prepareHeld(
  db: Db,
  held: Pick<Claimed, 'step' | 'execution'>,
  token: string,
  options: { deferred: boolean; kept: Claimed['resource'] },
): Promise<Claimed> {
  const { step, execution } = held;
  const claimed: Claimed = {
    step,
    execution,
    resource: step.resourceRef ? options.kept : null,
    preparationError: undefined,
  };
  return options.deferred ? claimed : prepare(db, claimed, token);
}

/** Applies the step's first transition (its `before` patch) once, guarded by the claim. */
export async function prepare(db: Db, claimed: Claimed, token: string): Promise<Claimed> {
  if (claimed.resource !== undefined && (!pendingPatch(claimed) || !claimed.resource)) return claimed;
  // A read alone needs no transaction; a patch is applied under the resource's row lock.
  return pendingPatch(claimed)
    ? db.transaction((tx) => prepareIn(tx, claimed, token))
    : db.read((tx) => prepareIn(tx, claimed, token));
}

/** `prepare` inside the caller's transaction: reads the resource (locked if a patch applies). */
export async function prepareIn(tx: Tx, claimed: Claimed, token: string): Promise<Claimed> {
  const { step, execution } = claimed;
  const resourceRef = step.resourceRef;
  const patch = pendingPatch(claimed);
  if (!resourceRef) return claimed;
  const ref = parseResourceRef(resourceRef);
  const current = await tx.resources.get(ref.type, ref.id, { forUpdate: patch !== null });
  // A failure handler may find its resource gone (a cancelled create deleted it): that is not an error.
  if (!current)
    return step.role === 'failure'
      ? { ...claimed, resource: null }
      : { ...claimed, resource: null, preparationError: new ResourceGoneError(resourceRef) };
  if (!patch) return { ...claimed, resource: current };
  // Guarded by the claim first: if another delivery took the step over meanwhile, nothing is written.
  await tx.steps.markPrepared(step.id, token);
  try {
    const resource = await tx.resources.applyPatch(current, patch, {
      executionId: execution.id,
      actor: execution.actor,
    });
    // Later phases (admission) must see that the patch is applied, or they would apply it again.
    return { ...claimed, step: { ...step, prepared: true }, resource };
  } catch (error) {
    return { ...claimed, resource: current, preparationError: error };
  }
}

/** The `before` patch a claimed step still has to apply, if any. */
function pendingPatch(claimed: Claimed): ResourcePatch | null {
  const { step } = claimed;
  const before = step.before;
  return !step.prepared && before && !isEmptyPatch(before) && claimed.preparationError === undefined ? before : null;
}
