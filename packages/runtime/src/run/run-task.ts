import type { BeatOwner } from '@jetcel/bus';
import type { EntityWrites } from '@jetcel/db';
import { TransientError, type TaskContext, type TaskDefinition, type TaskOutcome } from '@jetcel/core';
import type { RunControl } from './run-control.ts';

/** A run's result; `entities`: a step task's entity writes, flushed in the step's commit. */
export type RunResult =
  { kind: 'outcome'; outcome: TaskOutcome; entities?: EntityWrites } | { kind: 'error'; error: unknown };

export interface RunHarness {
  /** Stops the task (shutdown, a lost claim or lease, its timeout); its reason is the result's error. */
  controller: RunControl;
  /** What `ctx.heartbeat()` does, and the periodic beat while the task runs (claims, the broker, cancels). */
  heartbeat: () => Promise<void>;
  /**
   * Where the periodic beat runs: the delivered message's own heartbeat (one beat per message), or
   * the worker's owner for a run without a message. None: the run needs no beat of its own (its
   * message already beats).
   */
  heartbeats?: BeatOwner;
  /** @defaultValue 10000 */
  heartbeatMs?: number;
  onHeartbeatError?: (error: unknown) => void;
  /** Read before the task runs: a bad argument is the task's error, like anything it throws. */
  args: unknown;
  /** Called once the arguments parsed, just before the task runs (fault points). */
  beforeRun?: () => void;
  /** The task's `cancelSignal`, made when the task first reads it (a step's); none: never aborted. */
  cancelSignal?: () => AbortSignal;
}

/** The `cancelSignal` of a run nothing can cancel. */
const NEVER_CANCELLED: AbortSignal = new AbortController().signal;

/**
 * Runs one task, step or background, with its heartbeat and its timeout; never throws, the
 * result says what happened. One promise per run: no `Promise.race`, no abort listener, and a
 * timer only for a task with a timeout. When it returns, a signal the task read is aborted.
 */
export function runTask<S>(
  task: TaskDefinition<unknown, S>,
  context: Omit<TaskContext<S>, 'signal' | 'heartbeat' | 'cancelSignal'>,
  harness: RunHarness,
): Promise<RunResult> {
  const { controller } = harness;
  return new Promise<RunResult>((resolve) => {
    let stopBeating: (() => void) | undefined;
    let timeout: NodeJS.Timeout | undefined;
    let settled = false;
    const finish = (result: RunResult): void => {
      if (settled) return;
      settled = true;
      stopBeating?.();
      if (timeout !== undefined) clearTimeout(timeout);
      controller.finish();
      resolve(result);
    };
    controller.onAbort = (reason) => finish({ kind: 'error', error: reason });
    if (controller.aborted) return finish({ kind: 'error', error: controller.reason });
    if (harness.heartbeats) {
      const { heartbeat, onHeartbeatError } = harness;
      stopBeating = harness.heartbeats.add(harness.heartbeatMs ?? 10_000, () => {
        heartbeat().catch((error: unknown) => onHeartbeatError?.(error));
      });
    }
    if (task.timeoutMs !== undefined)
      timeout = setTimeout(
        () => controller.abort(new TransientError(`Task ${task.name} timed out after ${task.timeoutMs} ms`)),
        task.timeoutMs,
      );
    try {
      const args = task.parseArgs(harness.args);
      harness.beforeRun?.();
      const taskContext: TaskContext<S> = {
        ...context,
        heartbeat: harness.heartbeat,
        // made on first read: most tasks never look at their signal
        get signal() {
          return controller.signal;
        },
        get cancelSignal() {
          return harness.cancelSignal?.() ?? NEVER_CANCELLED;
        },
      };
      // a task that (against its type) returns no promise is done when it returns
      Promise.resolve(task.run(taskContext, args)).then(
        (outcome) => finish({ kind: 'outcome', outcome: outcome ?? { kind: 'done' } }),
        (error: unknown) => finish({ kind: 'error', error }),
      );
    } catch (error) {
      finish({ kind: 'error', error });
    }
  });
}
