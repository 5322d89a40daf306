import type { QueueName } from '@jetcel/contracts';
import type { Json } from './json.ts';
import type { ResourcePatch } from './resource.ts';

export const PLAN_VERSION = 1;

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
}

/** A stored, versioned plan: the chain, then exactly one of the two handlers. */
export interface Plan {
  v: number;
  executor: string;
  steps: StepCall[];
  onSuccess: StepCall;
  onFailure: StepCall;
}

export type StepRole = 'main' | 'success' | 'failure';

/** Why a step (and so its execution) failed, as stored on the step and the resource. */
export interface FailureInfo {
  message: string;
  traceback: string;
  errorName: string;
}

/** What the commit transaction of a finished step writes next. */
export type Continuation =
  | { kind: 'queue_step'; position: number; call: StepCall }
  | { kind: 'queue_handler'; role: 'success' | 'failure'; call: StepCall }
  | { kind: 'finish'; status: 'succeeded' | 'failed' };

/** After a step succeeded (or failed with ignoreErrors). */
export function continueAfterSuccess(plan: Plan, role: StepRole, position: number): Continuation {
  switch (role) {
    case 'main': {
      const next = plan.steps[position + 1];
      return next
        ? { kind: 'queue_step', position: position + 1, call: next }
        : { kind: 'queue_handler', role: 'success', call: plan.onSuccess };
    }
    case 'success':
      return { kind: 'finish', status: 'succeeded' };
    case 'failure':
      return { kind: 'finish', status: 'failed' };
  }
}

/** After a step failed for good: the failure handler runs once; its own failure ends the execution. */
export function continueAfterFailure(plan: Plan, role: StepRole, position: number): Continuation {
  if (role === 'main' && plan.steps[position]?.ignoreErrors) return continueAfterSuccess(plan, role, position);
  return role === 'failure'
    ? { kind: 'finish', status: 'failed' }
    : { kind: 'queue_handler', role: 'failure', call: plan.onFailure };
}
