import {
  backgroundMessageSchema,
  TASK_MESSAGE_VERSION,
  taskMessageSchema,
  type BackgroundMessage,
  type TaskMessage,
} from '@jetcel/contracts';

/** What a task queue message is, decided by one JSON decode of its bytes. */
export type DecodedTask =
  | { kind: 'step'; message: TaskMessage }
  /** A step message of a version this worker does not know: what identifies the step is kept. */
  | { kind: 'newer_version'; message: TaskMessage }
  | { kind: 'background'; message: BackgroundMessage }
  | { kind: 'undecodable'; reason: string };

/** Background messages carry `kind: 'background'`; everything else is a step message. */
export function decodeTaskDelivery(data: Uint8Array): DecodedTask {
  let json: unknown;
  try {
    // a view on the message's bytes, not a copy of them
    json = JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8'));
  } catch (error) {
    return { kind: 'undecodable', reason: `not JSON: ${(error as Error).message}` };
  }
  if (typeof json === 'object' && json !== null && (json as { kind?: unknown }).kind === 'background') {
    const background = backgroundMessageSchema.safeParse(json);
    return background.success
      ? { kind: 'background', message: background.data }
      : { kind: 'undecodable', reason: `malformed background task message: ${background.error.message}` };
  }
  const parsed = taskMessageSchema.safeParse(json);
  if (parsed.success) {
    return parsed.data.v > TASK_MESSAGE_VERSION
      ? { kind: 'newer_version', message: parsed.data }
      : { kind: 'step', message: parsed.data };
  }
  // A newer version may add fields: keep what identifies the step and wait for a newer worker.
  const loose = taskMessageSchema.partial().passthrough().safeParse(json);
  if (
    loose.success &&
    typeof loose.data.v === 'number' &&
    loose.data.v > TASK_MESSAGE_VERSION &&
    loose.data.executionId &&
    loose.data.stepId &&
    loose.data.task
  ) {
    return { kind: 'newer_version', message: loose.data as TaskMessage };
  }
  return {
    kind: 'undecodable',
    reason: parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; '),
  };
}
