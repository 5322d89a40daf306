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
