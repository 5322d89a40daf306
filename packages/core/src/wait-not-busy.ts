import { z } from 'zod';
import { definedJson } from './json.ts';
import type { StepCall } from './plan.ts';
import { checkPollLimit } from './poll-runtime-state.ts';
import type { StepOptions } from './step.ts';
import { RESOURCE_STATES, type ResourceState } from './states.ts';
import { defineTask, done, pollAgain } from './task.ts';

export const WAIT_NOT_BUSY_TASK = 'jetcel.wait_not_busy';

/** The states of a resource with an operation scheduled or running. */
export const BUSY_STATES: readonly ResourceState[] = RESOURCE_STATES.filter(
  (state) => state.endsWith('_SCHEDULED') || state.endsWith('ING'),
);

const waitArgs = z.object({
  ref: z.string().regex(/^[^:]+:.+$/, 'a resource reference "<type>:<id>"'),
  busy: z.array(z.enum(RESOURCE_STATES)).optional(),
  intervalMs: z.number().int().positive().optional(),
  maxPolls: z.number().int().positive().optional(),
});

export type WaitNotBusyArgs = z.infer<typeof waitArgs>;

/**
 * Waits until another resource is no longer busy (Waldur's PollStateTask): polls it until its
 * state is outside `busy` (by default a *_SCHEDULED or *ING state); a resource that is gone counts as free.
 */
export const waitNotBusyTask = defineTask({
  name: WAIT_NOT_BUSY_TASK,
  args: waitArgs,
  retry: { maxAttempts: 1 },
  sideEffects: false,
  async run(ctx, args) {
    const other = await ctx.resources.get(args.ref);
    if (other === null || !(args.busy ?? BUSY_STATES).includes(other.state)) return done();
    checkPollLimit(WAIT_NOT_BUSY_TASK, ctx.pollCount + 1, args.maxPolls);
    return pollAgain(args.intervalMs);
  },
});

/** A plan step that waits until `ref` ("<type>:<id>") is no longer busy. */
export function waitUntilNotBusy(
  ref: string,
  options: Omit<WaitNotBusyArgs, 'ref'> = {},
  stepOptions: StepOptions = {},
): StepCall {
  const { busy, intervalMs, maxPolls } = options;
  return { ...stepOptions, task: WAIT_NOT_BUSY_TASK, args: definedJson({ ref, busy, intervalMs, maxPolls }) };
}
