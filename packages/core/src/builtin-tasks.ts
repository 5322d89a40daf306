import { z } from 'zod';
import { defineTask, done } from './task.ts';
import { isTransitionName } from './states.ts';

export const BUILTIN_TASKS = {
  transition: 'jetcel.transition',
  setOk: 'jetcel.set_ok',
  setErred: 'jetcel.set_erred',
  deleteResource: 'jetcel.delete_resource',
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
  async run(_ctx, args) {
    return done({
      transition: args.transition,
      ...(args.action == null ? {} : { action: args.action }),
      ...(args.actionDetails == null ? {} : { actionDetails: args.actionDetails }),
    });
  },
});

/** Success handler: OK with action and action_details cleared. */
export const setOkTask = defineTask({
  name: BUILTIN_TASKS.setOk,
  retry: { maxAttempts: 1 },
  async run() {
    return done({ transition: 'set_ok', action: '', actionDetails: {} });
  },
});

const failureArgs = z.object({
  failure: z.object({ message: z.string(), traceback: z.string() }).optional(),
});

/** Failure handler: ERRED with the failure's message and traceback, action cleared (SPEC B1, A2). */
export const setErredTask = defineTask({
  name: BUILTIN_TASKS.setErred,
  args: failureArgs,
  retry: { maxAttempts: 1 },
  async run(_ctx, args) {
    return done({
      transition: 'set_erred',
      errorMessage: args.failure?.message ?? 'Unknown failure',
      errorTraceback: args.failure?.traceback ?? '',
      action: '',
      actionDetails: {},
    });
  },
});

/** Delete executors' success handler: removes the row, leaving a tombstone event. */
export const deleteResourceTask = defineTask({
  name: BUILTIN_TASKS.deleteResource,
  retry: { maxAttempts: 1 },
  async run() {
    return done({ delete: true });
  },
});

export const builtinTasks = [transitionTask, setOkTask, setErredTask, deleteResourceTask] as const;
