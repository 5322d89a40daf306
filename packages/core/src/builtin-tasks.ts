import { z } from 'zod';
import type { JsonObject } from './json.ts';
import type { FailureInfo, StepCall } from './plan.ts';
import type { ResourcePatch, ResourceSnapshot } from './resource.ts';
import { isResourceState, isTransitionName } from './states.ts';
import { defineTask, done } from './task.ts';
import { cleanupRelatedTask } from './cleanup-task.ts';
import { waitNotBusyTask } from './wait-not-busy.ts';

export const BUILTIN_TASKS = {
  transition: 'jetcel.transition',
  setOk: 'jetcel.set_ok',
  setErred: 'jetcel.set_erred',
  deleteResource: 'jetcel.delete_resource',
  runExecutor: 'jetcel.run_executor',
} as const;

const transitionArgs = z.object({
  transition: z.string().refine(isTransitionName, 'unknown transition'),
  // null means "not given", as in Waldur's StateTransitionTask.
  action: z.string().nullish(),
  actionDetails: z.record(z.string(), z.json()).nullish(),
});

/** Applies a named transition and, when given, the action fields (Waldur's StateTransitionTask). */
export const transitionTask = defineTask({
  name: BUILTIN_TASKS.transition,
  args: transitionArgs,
  retry: { maxAttempts: 1 },
  sideEffects: false,
  async run(_ctx, args) {
    return done({
      transition: args.transition,
      ...(args.action == null ? {} : { action: args.action }),
      ...(args.actionDetails == null ? {} : { actionDetails: args.actionDetails }),
    });
  },
});

/** What `jetcel.set_ok` writes: OK with action and action_details cleared. */
export function setOkPatch(): ResourcePatch {
  return { transition: 'set_ok', action: '', actionDetails: {} };
}

/**
 * Success handler: OK with action and action_details cleared. As an execution's only success
 * handler call it does not run on its own: the last main step's commit applies its patch.
 */
export const setOkTask = defineTask({
  name: BUILTIN_TASKS.setOk,
  retry: { maxAttempts: 1 },
  sideEffects: false,
  async run() {
    return done(setOkPatch());
  },
});

const cancelSchema = z.object({
  backendEffectStarted: z.boolean(),
  previous: z.object({
    state: z.string().refine(isResourceState),
    errorMessage: z.string(),
    errorTraceback: z.string(),
  }),
});

export const failureSchema = z.object({
  message: z.string(),
  traceback: z.string(),
  errorName: z.string().optional(),
  cancelled: cancelSchema.optional(),
});

const failureArgs = z.object({ failure: failureSchema.optional() });

/**
 * The resource write of a failure handler: ERRED with the message and traceback
 * and the action cleared; for a cancel, the previous state when no backend effect had started
 * (a create that never reached the backend deletes its row), otherwise ERRED "cancelled" — unless
 * the resource is already ERRED with a message (`current`): then that error stays.
 */
export function failurePatch(
  failure: z.infer<typeof failureSchema> | FailureInfo | undefined,
  current?: Pick<ResourceSnapshot, 'state' | 'errorMessage'> | null,
): ResourcePatch {
  const cleared = { action: '', actionDetails: {} satisfies JsonObject };
  const cancelled = failure?.cancelled;
  // An operation keeps its resource out of ERRED; if it is ERRED with a message when the cancel
  // settles, whoever cancelled it said why (a watchdog's "Provisioning has timed out.").
  if (cancelled && current?.state === 'ERRED' && current.errorMessage !== '') return cleared;
  if (cancelled && !cancelled.backendEffectStarted) {
    const { previous } = cancelled;
    if (previous.state === 'CREATION_SCHEDULED') return { delete: true };
    if (isResourceState(previous.state)) {
      return {
        restore: {
          state: previous.state,
          errorMessage: previous.errorMessage,
          errorTraceback: previous.errorTraceback,
        },
        ...cleared,
      };
    }
  }
  return {
    transition: 'set_erred',
    errorMessage: cancelled ? 'cancelled' : (failure?.message ?? 'Unknown failure'),
    errorTraceback: failure?.traceback ?? '',
    ...cleared,
  };
}

/** Failure handler: see failurePatch. */
export const setErredTask = defineTask({
  name: BUILTIN_TASKS.setErred,
  args: failureArgs,
  retry: { maxAttempts: 1 },
  sideEffects: false,
  async run(ctx, args) {
    return done(failurePatch(args.failure, ctx.resource));
  },
});

/** Delete executors' success handler (and failure handler under force): removes the row, leaving a tombstone. */
export const deleteResourceTask = defineTask({
  name: BUILTIN_TASKS.deleteResource,
  retry: { maxAttempts: 1 },
  sideEffects: false,
  async run() {
    return done({ delete: true });
  },
});

export const runExecutorArgs = z.object({
  executor: z.string().min(1),
  params: z.record(z.string(), z.json()).default({}),
});

/**
 * Marker of a nested executor: the runtime runs the named executor's preApply when this
 * step is reached and continues once the child execution has finished.
 */
export const runExecutorTask = defineTask({
  name: BUILTIN_TASKS.runExecutor,
  args: runExecutorArgs,
  retry: { maxAttempts: 1 },
  sideEffects: false,
  async run() {
    throw new Error(`${BUILTIN_TASKS.runExecutor} is run by the runtime, not as a task`);
  },
});

/** A plan step that runs another executor on a resource (Waldur's `as_signature`). */
export function runExecutor(
  executor: string,
  resource: string,
  params: JsonObject = {},
  options: Pick<StepCall, 'ignoreErrors' | 'startDelayMs' | 'queue'> = {},
): StepCall {
  return { task: BUILTIN_TASKS.runExecutor, resource, args: { executor, params }, ...options };
}

export const builtinTasks = [
  transitionTask,
  setOkTask,
  setErredTask,
  deleteResourceTask,
  runExecutorTask,
  waitNotBusyTask,
  cleanupRelatedTask,
] as const;
