import { z } from 'zod';
import { QUEUES } from './names.ts';

/** Current version of the task message body. Workers wait out unknown versions (rolling upgrades). */
export const TASK_MESSAGE_VERSION = 1;

/** The body of a message on tasks.<queue>: it names a step; the step row holds the truth. */
export const taskMessageSchema = z
  .object({
    v: z.number().int().positive(),
    task: z.string().min(1),
    queue: z.enum(QUEUES),
    executionId: z.uuid(),
    stepId: z.uuid(),
    attempt: z.number().int().positive(),
    args: z.unknown(),
  })
  .strict();

export type TaskMessage = z.infer<typeof taskMessageSchema>;

/**
 * The body of a background task message (published by beat, by another background task, or
 * directly as a standalone task). `runId` names the `background_run` row that holds the task's
 * equality while it is queued or running; a standalone task has none (no claim, at-least-once).
 */
export const backgroundMessageSchema = z
  .object({
    v: z.number().int().positive(),
    kind: z.literal('background'),
    task: z.string().min(1),
    runId: z.uuid().nullable(),
    resource: z.string().min(1).nullable(),
    args: z.unknown(),
  })
  .strict();

export type BackgroundMessage = z.infer<typeof backgroundMessageSchema>;
