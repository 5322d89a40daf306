import { PLAN_VERSION, type Plan, type StepCall } from './plan.ts';

/** A stored plan of a version this code does not read (written by a newer jetcel). */
export class UnknownPlanVersionError extends Error {
  readonly code = 'UNKNOWN_PLAN_VERSION';
  constructor(readonly version: unknown) {
    super(`A stored plan has version ${String(version)}; this jetcel reads versions 1 to ${PLAN_VERSION}`);
    this.name = 'UnknownPlanVersionError';
  }
}

/** A plan as version 1 stored it: one call per handler. */
type PlanV1 = Omit<Plan, 'onSuccess' | 'onFailure'> & { onSuccess: StepCall; onFailure: StepCall };

/**
 * A plan as read from an execution row, in the current shape: a version-1 plan (one call per
 * handler) reads as a chain of that one call, so executions stored before keep running.
 */
export function readPlan(stored: unknown): Plan {
  const version = typeof stored === 'object' && stored !== null ? (stored as { v?: unknown }).v : undefined;
  if (version === PLAN_VERSION) return stored as Plan;
  if (version !== 1) throw new UnknownPlanVersionError(version);
  const old = stored as PlanV1;
  return { ...old, v: PLAN_VERSION, onSuccess: [old.onSuccess], onFailure: [old.onFailure] };
}
