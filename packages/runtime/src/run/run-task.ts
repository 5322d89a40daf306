import type { Heartbeats } from '@jetcel/bus';
import { TransientError, type TaskContext, type TaskDefinition, type TaskOutcome } from '@jetcel/core';

export type RunResult = { kind: 'outcome'; outcome: TaskOutcome } | { kind: 'error'; error: unknown };

export interface RunHarness {
  /** Stops the task (shutdown, a lost claim or lease, its timeout); its reason is the result's error. */
  controller: AbortController;
  /** Called every `heartbeatMs` while the task runs (claims, the broker, cancels), by the worker's one timer. */
  heartbeat: () => Promise<void>;
  heartbeatMs: number;
  heartbeats: Heartbeats;
  onHeartbeatError: (error: unknown) => void;
  /** Read before the task runs: a bad argument is the task's error, like anything it throws. */
  args: unknown;
  /** Called once the arguments parsed, just before the task runs (fault points). */
  beforeRun?: () => void;
}

// One reason for every finished task: building an Error (and its stack) per task showed in profiles.
const FINISHED = new Error('task finished');

/**
 * Runs one task, step or background, with its heartbeats and its timeout; never throws, the
 * result says what happened. When it returns, the task's signal is aborted.
 */
export async function runTask<S>(
  task: TaskDefinition<unknown, S>,
  context: Omit<TaskContext<S>, 'signal' | 'heartbeat'>,
  harness: RunHarness,
): Promise<RunResult> {
  const { controller } = harness;
  const stopBeating = harness.heartbeats.add(harness.heartbeatMs, () => {
    harness.heartbeat().catch(harness.onHeartbeatError);
  });
  const timeout =
    task.timeoutMs === undefined
      ? undefined
      : setTimeout(
          () => controller.abort(new TransientError(`Task ${task.name} timed out after ${task.timeoutMs} ms`)),
          task.timeoutMs,
        );
  try {
    const args = task.parseArgs(harness.args);
    harness.beforeRun?.();
    const aborted = new Promise<never>((_, reject) => {
      controller.signal.addEventListener('abort', () => reject(controller.signal.reason as Error), { once: true });
    });
    const outcome = await Promise.race([
      task.run({ ...context, signal: controller.signal, heartbeat: harness.heartbeat }, args),
      aborted,
    ]);
    return { kind: 'outcome', outcome: outcome ?? { kind: 'done' } };
  } catch (error) {
    return { kind: 'error', error };
  } finally {
    stopBeating();
    clearTimeout(timeout);
    if (!controller.signal.aborted) controller.abort(FINISHED);
  }
}
