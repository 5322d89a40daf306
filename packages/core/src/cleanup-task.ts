import { z } from 'zod';
import { defineTask } from './task.ts';

export const CLEANUP_RELATED_TASK = 'jetcel.cleanup_related';

export const cleanupRelatedArgs = z.object({
  resourceType: z.string().min(1),
  executor: z.string().min(1),
  where: z.record(z.string(), z.json()),
  params: z.record(z.string(), z.json()).default({}),
  intervalMs: z.number().int().positive(),
  timeoutMs: z.number().int().positive(),
});

export type CleanupRelatedArgs = z.infer<typeof cleanupRelatedArgs>;

/**
 * Marker of a cleanup step: the runtime finds the related rows when the step runs, starts each
 * one's delete executor, waits for busy ones, and ends the step once none is left.
 */
export const cleanupRelatedTask = defineTask({
  name: CLEANUP_RELATED_TASK,
  args: cleanupRelatedArgs,
  retry: { maxAttempts: 1 },
  // The deletes it starts are executions of their own, with their own steps' effects.
  sideEffects: false,
  async run() {
    throw new Error(`${CLEANUP_RELATED_TASK} is run by the runtime, not as a task`);
  },
});
