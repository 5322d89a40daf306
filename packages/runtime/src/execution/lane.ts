import type { TaskLane } from '@jetcel/contracts';
import type { Plan, StepRole } from '@jetcel/core';

/** Main steps a plan may still have ahead of a step (itself included) for that step to take the short lane. */
export const DEFAULT_LONG_PLAN_STEPS = 8;

/**
 * The lane a step's message takes: `long` when more than `longPlanSteps` nodes of the plan's chain
 * lie ahead of it (itself included), else `short`. A handler is one step: always short. Workers
 * serve the long lane in slots of its own, so a short execution never queues behind long chains.
 */
export function stepLane(
  plan: Pick<Plan, 'steps'>,
  step: { role: StepRole; position: number },
  longPlanSteps: number = DEFAULT_LONG_PLAN_STEPS,
): TaskLane {
  if (step.role !== 'main') return 'short';
  return plan.steps.length - step.position > longPlanSteps ? 'long' : 'short';
}
