import type { QueueName } from '@jetcel/contracts';
import type { Json } from './json.ts';
import type { ResourcePatch } from './resource.ts';

/** 2: the handlers are chains (arrays of calls); a version-1 plan stored one call each (see `readPlan`). */
export const PLAN_VERSION = 2;

/** One step of a plan: which task, with what arguments, against which resource. */
export interface StepCall {
  task: string;
  args?: Json;
  /** "<type>:<id>"; defaults to the execution's resource. */
  resource?: string;
  /** Applied in the claim transaction of the step's first attempt, before `run` (e.g. begin_creating). */
  before?: ResourcePatch;
  /** Delays the step's first attempt only; overrides the task's own start delay. */
  startDelayMs?: number;
  /** Overrides the task's queue (a heavy executor routes every step to tasks.heavy). */
  queue?: QueueName;
  /** A failure of this step counts as success for the plan (cleanup executors). */
  ignoreErrors?: boolean;
  /**
   * This step enters the executor's throttled span: a scope lease is taken before its `before`
   * patch, and held until the main chain ends, before the handlers run.
   */
  throttled?: boolean;
}

/** The throttle of a stored plan: the lease kind and the scope it was resolved to. */
export interface PlanThrottle {
  kind: string;
  scope: string;
}

/** What a group does when a member fails for good. */
export type GroupPolicy = 'fail_fast' | 'wait_all';

/**
 * Steps that run in parallel; the chain continues once every member has finished. Under
 * fail-fast the first failure cancels the members not yet started and fails the group once
 * nothing is in flight; under wait-all the group fails after all members have finished.
 */
export interface GroupNode {
  group: StepCall[];
  policy: GroupPolicy;
}

export type PlanNode = StepCall | GroupNode;

export function isGroup(node: PlanNode): node is GroupNode {
  return 'group' in node;
}

/**
 * A stored, versioned plan: the chain, then exactly one of the two handlers. Each handler is a
 * chain of at least one call, run in order (a call may be a nested executor).
 */
export interface Plan {
  v: number;
  executor: string;
  steps: PlanNode[];
  onSuccess: StepCall[];
  onFailure: StepCall[];
  throttle?: PlanThrottle;
}

export type StepRole = 'main' | 'success' | 'failure';

/** Set on the failure when an execution was cancelled. */
export interface CancelInfo {
  /** Whether a step with a backend effect had started before the cancel. */
  backendEffectStarted: boolean;
  /** The resource as it was before the execution's preApply. */
  previous: { state: string; errorMessage: string; errorTraceback: string };
}

/** Why a step (and so its execution) failed, as stored on the step and the resource. */
export interface FailureInfo {
  message: string;
  traceback: string;
  errorName: string;
  /** Present when the failure is a cancel: the failure handler compensates instead of just erring. */
  cancelled?: CancelInfo;
}

/** What the commit transaction of a finished step writes next. */
export type Continuation =
  | { kind: 'queue_node'; position: number; node: PlanNode }
  | { kind: 'queue_handler'; role: 'success' | 'failure'; position: number; call: StepCall }
  | { kind: 'finish'; status: 'succeeded' | 'failed' | 'cancelled' };

/** The handler call at `position` of a chain, or the end of the execution once the chain is done. */
function handlerStep(
  plan: Plan,
  role: 'success' | 'failure',
  position: number,
  end: 'succeeded' | 'failed' | 'cancelled',
): Continuation {
  const call = (role === 'success' ? plan.onSuccess : plan.onFailure)[position];
  return call ? { kind: 'queue_handler', role, position, call } : { kind: 'finish', status: end };
}

/** After a chain node succeeded (a step, or a whole group; or a failure ignored by ignoreErrors). */
export function continueAfterSuccess(plan: Plan, role: StepRole, position: number, cancelled = false): Continuation {
  switch (role) {
    case 'main': {
      const next = plan.steps[position + 1];
      return next
        ? { kind: 'queue_node', position: position + 1, node: next }
        : handlerStep(plan, 'success', 0, 'succeeded');
    }
    case 'success':
      return handlerStep(plan, 'success', position + 1, 'succeeded');
    case 'failure':
      return handlerStep(plan, 'failure', position + 1, cancelled ? 'cancelled' : 'failed');
  }
}

/**
 * After a step failed for good. A failure in the main chain or in the success handler runs the
 * failure handler from its start; a failure inside the failure handler ends the execution failed
 * (its remaining calls are skipped).
 */
export function continueAfterFailure(plan: Plan, role: StepRole, cancelled = false): Continuation {
  return role === 'failure'
    ? { kind: 'finish', status: cancelled ? 'cancelled' : 'failed' }
    : handlerStep(plan, 'failure', 0, cancelled ? 'cancelled' : 'failed');
}
