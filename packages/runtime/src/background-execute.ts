import {
  TransientError,
  type Logger,
  type ResourceReader,
  type ResourceSnapshot,
  type TaskDefinition,
  type TaskOutcome,
} from '@jetcel/core';

export type BackgroundRunResult = { kind: 'outcome'; outcome: TaskOutcome } | { kind: 'error'; error: unknown };

export interface BackgroundExecution<S> {
  args: unknown;
  attempt: number;
  idempotencyKey: string;
  actor: string | null;
  resource: ResourceSnapshot | null;
  resources: ResourceReader;
  services: S;
  log: Logger;
  heartbeatMs: number;
  /** Extends the claim (if any) and tells the broker the message is being worked on. */
  heartbeat: () => Promise<void>;
  /** Lets the heartbeat stop the task (its claim was lost). */
  controller: AbortController;
}

// Background tasks belong to no execution: nothing can cancel them, only stop them (signal).
const NEVER_CANCELLED = new AbortController().signal;
// One reason for every finished task: building an Error (and its stack) per task showed in profiles.
const FINISHED = new Error('background task finished');

/** Runs a background task with heartbeats and its timeout; never throws, the result says what happened. */
export async function executeBackgroundTask<S>(
  task: TaskDefinition<unknown, S>,
  input: BackgroundExecution<S>,
): Promise<BackgroundRunResult> {
  const { controller, log } = input;
  const timer = setInterval(() => {
    input.heartbeat().catch((error: unknown) => log.warn('heartbeat failed', { error: String(error) }));
  }, input.heartbeatMs);
  const timeout =
    task.timeoutMs === undefined
      ? undefined
      : setTimeout(
          () => controller.abort(new TransientError(`Task ${task.name} timed out after ${task.timeoutMs} ms`)),
          task.timeoutMs,
        );
  try {
    const args = task.parseArgs(input.args);
    const aborted = new Promise<never>((_, reject) => {
      controller.signal.addEventListener('abort', () => reject(controller.signal.reason as Error), { once: true });
    });
    const outcome = await Promise.race([
      task.run(
        {
          signal: controller.signal,
          cancelSignal: NEVER_CANCELLED,
          attempt: input.attempt,
          pollCount: 0,
          idempotencyKey: input.idempotencyKey,
          fencingToken: null,
          fencingSlot: null,
          heartbeat: input.heartbeat,
          log,
          actor: input.actor,
          executionId: null,
          stepId: null,
          resource: input.resource,
          resources: input.resources,
          services: input.services,
        },
        args,
      ),
      aborted,
    ]);
    return { kind: 'outcome', outcome: outcome ?? { kind: 'done' } };
  } catch (error) {
    return { kind: 'error', error };
  } finally {
    clearInterval(timer);
    clearTimeout(timeout);
    if (!controller.signal.aborted) controller.abort(FINISHED);
  }
}
