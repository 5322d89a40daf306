import type { Delivery, Heartbeats } from '@jetcel/bus';
import type { Logger, TaskDefinition } from '@jetcel/core';
import { ClaimLostError, faultPause, faultPoint, FAULT_POINTS, type Db, type ExecutionLease } from '@jetcel/db';
import { resourceReader } from '../run/resource-reader.ts';
import { StepEntities, withStepEntities } from './entities.ts';
import { RunControl } from '../run/run-control.ts';
import { runTask, type RunResult } from '../run/run-task.ts';
import { LeaseLostError, type ThrottleGate } from '../throttle/slots.ts';
import type { Claimed } from './prepare.ts';

/** What running a step's task needs from its worker. */
export interface StepHarness<S> {
  db: Db;
  services: S;
  claimTtlMs: number;
  heartbeatMs: number;
  heartbeats: Heartbeats;
  throttle: ThrottleGate | undefined;
  /** The worker's running tasks: shutdown aborts them. */
  running: Set<RunControl>;
}

/**
 * Runs the task of a claimed step; heartbeats extend the claim (and the scope lease), tell the
 * broker the delivery lives (when there is one) and notice a cancel.
 */
export async function runStepTask<S>(
  harness: StepHarness<S>,
  task: TaskDefinition<unknown, S>,
  claimed: Claimed,
  token: string,
  delivery: Delivery | undefined,
  log: Logger,
  lease: { current: ExecutionLease | null },
): Promise<RunResult> {
  if (claimed.preparationError !== undefined) return { kind: 'error', error: claimed.preparationError };
  const { db, throttle } = harness;
  const { step, execution } = claimed;
  const initialLease = lease.current;
  const controller = new RunControl();
  harness.running.add(controller);
  // The task's cancelSignal, made when first read (most tasks never look) or when a cancel comes.
  let cancel: AbortController | undefined;
  const cancelSignal = (): AbortSignal => (cancel ??= new AbortController()).signal;
  const cancelRun = (): void => {
    cancel ??= new AbortController();
    if (!cancel.signal.aborted) cancel.abort(new Error('execution cancelled'));
  };
  if (execution.status === 'cancel_requested') cancelRun();
  const heartbeat = async (): Promise<void> => {
    delivery?.working();
    const state = await db.leanTransaction((tx) => tx.steps.extend(step.id, token, harness.claimTtlMs), {
      relaxedDurability: true,
    });
    if (!state.held) controller.abort(new ClaimLostError(step.id));
    if (state.executionStatus === 'cancel_requested') cancelRun();
    // The scope lease is renewed with every heartbeat; a lost lease stops the step.
    const held = lease.current;
    if (held && throttle && !controller.aborted) {
      const renewed = await throttle.renew(execution.id, held);
      lease.current = renewed;
      if (!renewed) controller.abort(new LeaseLostError(held.key));
    }
  };
  const entities = new StepEntities(db);
  try {
    const result = await runTask(
      task,
      withStepEntities(
        {
          attempt: step.attempts,
          pollCount: step.polls,
          idempotencyKey: `${execution.id}:${step.id}`,
          fencingToken: initialLease ? String(initialLease.revision) : null,
          fencingSlot: initialLease?.key ?? null,
          log,
          actor: execution.actor,
          executionId: execution.id,
          stepId: step.id,
          resource: claimed.resource ?? null,
          resources: resourceReader(db),
          services: harness.services,
        },
        entities,
      ),
      {
        args: step.args,
        controller,
        heartbeat,
        cancelSignal,
        heartbeatMs: harness.heartbeatMs,
        // One beat per step: on its message's heartbeat, or the worker's for a step without one.
        heartbeats: delivery?.heartbeat ?? harness.heartbeats,
        onHeartbeatError: (error: unknown) => log.warn('heartbeat failed', { error: String(error) }),
        beforeRun: () => {
          faultPause('before-task-run');
          faultPoint(FAULT_POINTS.beforeBackendCall, `${task.name} ${execution.id}`);
        },
      },
    );
    // The task's entity writes ride its outcome to the commit (none: the fast commit may apply).
    if (result.kind !== 'outcome') return result;
    const writes = entities.pending();
    return writes ? { ...result, entities: writes } : result;
  } finally {
    harness.running.delete(controller);
  }
}
