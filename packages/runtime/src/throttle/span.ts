import { randomUUID } from 'node:crypto';
import { parseLeaseKey } from '@jetcel/contracts';
import type { Logger, RuntimeMetrics, TaskDefinition, TaskRegistry } from '@jetcel/core';
import type { Db, ExecutionLease, ExecutionRecord, StepRecord, Waiter } from '@jetcel/db';
import { requeueStep } from '../execution/step-messages.ts';
import { stepContext } from '../step/label.ts';
import { prepare, prepareIn, type Claimed } from '../step/prepare.ts';
import { ThrottleTimeoutError, type ThrottleGate } from './slots.ts';

/** Whether a claimed step may run now: admitted to its span, waiting for a slot, or refused (timed out). */
export type Admitted =
  | { kind: 'admitted'; claimed: Claimed; lease: ExecutionLease | null }
  | { kind: 'waiting' }
  | { kind: 'refused'; error: unknown };

export interface ThrottledSpanOptions<S> {
  db: Db;
  gate: ThrottleGate;
  logger: Logger;
  registry: TaskRegistry<S>;
  metrics?: RuntimeMetrics;
  /** Claims a parked waiter handed a slot (at once, before its fallback timer); null if it is gone. */
  claim: (stepId: string, token: string) => Promise<Claimed | null>;
  /** Runs a waiter handed a slot, through the same path as a delivered step (no message of its own). */
  start: (
    claimed: Claimed,
    token: string,
    task: TaskDefinition<unknown, S>,
    log: Logger,
    admitted: Admitted | null,
  ) => void;
}

/** How much longer a waiter parked in another process may have waited before a local hand-over yields to it. */
const HAND_OVER_SKEW_MS = 1000;

/**
 * A throttled span, from the admission of its first step to the hand-over of its slot: a step
 * that must hold its execution's scope lease is admitted (or waits, or is refused); when the main
 * chain ends, the slot goes to the longest waiter (run here at once when parked here), or back.
 */
export class ThrottledSpan<S> {
  constructor(private readonly options: ThrottledSpanOptions<S>) {}

  needsAdmission(step: StepRecord, execution: ExecutionRecord): boolean {
    return Boolean(execution.plan.throttle && step.role === 'main' && (step.throttled || execution.lease));
  }

  /**
   * Throttled spans: takes or renews the execution's lease before the step runs. A step that must
   * wait goes back to the queue (no worker slot, no failed attempt) with a fallback timer.
   */
  async admit(claimed: Claimed, token: string, log: Logger): Promise<Admitted> {
    const { step, execution } = claimed;
    const gate = this.options.gate;
    const throttle = execution.plan.throttle;
    if (!throttle || !this.needsAdmission(step, execution))
      return { kind: 'admitted', claimed, lease: execution.lease };
    // Waiting goes back to the queue (no worker slot, no failed attempt) with a fallback timer, in
    // the transaction that joins the waiting list.
    const admission = await gate.enter(execution, step.id, throttle, (tx, delayMs) =>
      requeueStep(tx, step.id, token, execution.actor, { delayMs }),
    );
    if (admission.kind === 'wait') {
      this.options.metrics?.throttleWaited({ kind: throttle.kind });
      gate.park(throttle, {
        executionId: execution.id,
        stepId: step.id,
        since: admission.since,
        ...(admission.fallbackRowId ? { fallbackRowId: admission.fallbackRowId } : {}),
      });
      log.info('waiting for a throttle slot', {
        kind: throttle.kind,
        scope: throttle.scope,
        recheckMs: admission.delayMs,
      });
      return { kind: 'waiting' };
    }
    if (admission.kind === 'timeout')
      return { kind: 'refused', error: new ThrottleTimeoutError(throttle, admission.waitedMs) };
    if (admission.kind === 'unthrottled')
      return { kind: 'admitted', claimed: await prepare(this.options.db, claimed, token), lease: null };
    const lease = admission.lease;
    log.info('throttle slot taken', { key: lease.key, fencingToken: lease.revision });
    const prepared = await prepare(this.options.db, claimed, token);
    return { kind: 'admitted', claimed: { ...prepared, execution: { ...execution, lease } }, lease };
  }

  /**
   * Admits a claimed waiter to the slot of an ended span, in one transaction: taken off the
   * waiting list (whoever takes it gives it a slot, so two spans never hand it one each), the
   * slot moved to it in KV, the lease recorded, its first transition applied.
   */
  private async takeSlot(
    gate: ThrottleGate,
    claimed: Claimed,
    token: string,
    lease: ExecutionLease,
    fallbackRowId: string | undefined,
  ): Promise<{ kind: 'admitted'; admitted: Admitted } | { kind: 'not_waiting' } | { kind: 'lease_lost' }> {
    const executionId = claimed.execution.id;
    try {
      return await this.options.db.transaction(async (tx) => {
        if (!(await tx.throttle.take(executionId))) throw HAND_OVER_ABORTED.notWaiting;
        // Its fallback timer has nothing left to do: unpublished, it would only be claimed in vain.
        if (fallbackRowId) await tx.outbox.discardUnpublished(fallbackRowId);
        const moved = await gate.transfer(lease, executionId);
        // Thrown to roll back: the waiter keeps its place and goes through admission as usual.
        if (!moved) throw HAND_OVER_ABORTED.leaseLost;
        await tx.throttle.admit(executionId, moved);
        const prepared = await prepareIn(tx, claimed, token);
        const admitted: Admitted = {
          kind: 'admitted',
          claimed: { ...prepared, execution: { ...prepared.execution, lease: moved } },
          lease: moved,
        };
        return { kind: 'admitted' as const, admitted };
      });
    } catch (error) {
      if (error === HAND_OVER_ABORTED.notWaiting) return { kind: 'not_waiting' };
      if (error === HAND_OVER_ABORTED.leaseLost) return { kind: 'lease_lost' };
      throw error;
    }
  }

  /**
   * After a commit of a step that holds its execution's lease: once the main chain has no step
   * left to run, the throttled span is over and its slot goes to the next waiter.
   * Handlers run outside the span; after theirs, an ended execution releases what it still holds.
   */
  async afterLeasedCommit(step: StepRecord, lease: ExecutionLease, log: Logger): Promise<void> {
    if (step.role !== 'main') return this.releaseIfEnded(step.executionId, log);
    const span = await this.options.db.read((tx) => tx.throttle.spanState(step.executionId, lease.kind, lease.scope));
    if (span.mainActive) return;
    await this.passSlotOn(step.executionId, lease, log, span);
  }

  /** The span of `fromExecutionId` is over: its slot goes to a waiter, or back to the scope. */
  async passSlotOn(
    fromExecutionId: string,
    lease: ExecutionLease,
    log: Logger,
    known?: { firstWaiter: Waiter | null; limit: number | null },
  ): Promise<void> {
    const gate = this.options.gate;
    try {
      const span =
        known ?? (await this.options.db.read((tx) => tx.throttle.spanState(fromExecutionId, lease.kind, lease.scope)));
      // A slot above a lowered limit (or a scope switched off) is not handed on: it is released.
      const slot = parseLeaseKey(lease.key)?.slot ?? Number.POSITIVE_INFINITY;
      if (slot >= (span.limit ?? gate.defaultLimitFor(lease.kind))) {
        if (await gate.release(fromExecutionId, lease)) log.info('throttle slot released', { key: lease.key });
        return;
      }
      await this.handOver(gate, fromExecutionId, lease, span.firstWaiter, log);
    } catch (error) {
      // The lease expires on its own; the lease reconciler frees it once the execution has ended.
      log.warn('passing the throttle slot on failed', { key: lease.key, error: String(error) });
    }
  }

  /**
   * Hands the slot of an ended span to the longest waiter parked in this process: claimed, the
   * lease moved to it in one compare-and-set, and run at once, without the round through
   * PostgreSQL, the outbox and the broker that a woken waiter takes. A waiter parked elsewhere
   * that has waited clearly longer goes first: then the slot is released and it is woken.
   */
  private async handOver(
    gate: ThrottleGate,
    fromExecutionId: string,
    lease: ExecutionLease,
    firstWaiter: Waiter | null,
    log: Logger,
  ): Promise<void> {
    for (;;) {
      const parked = gate.takeParked(lease.kind, lease.scope);
      const fair =
        parked && (!firstWaiter || parked.since.getTime() <= firstWaiter.since.getTime() + HAND_OVER_SKEW_MS);
      if (!parked || !fair) {
        if (parked) gate.park(lease, parked);
        // The longest waiter is parked elsewhere: the slot goes to it through PostgreSQL and the broker.
        if (firstWaiter && firstWaiter.executionId !== fromExecutionId && (await gate.handTo(lease, firstWaiter))) {
          log.info('throttle slot handed over', { key: lease.key, to: firstWaiter.executionId, remote: true });
          return;
        }
        if (await gate.release(fromExecutionId, lease)) log.info('throttle slot released', { key: lease.key });
        return;
      }
      const token = randomUUID();
      // Taken meanwhile by its fallback delivery, cancelled, or timed out: the next one.
      const claimed = await this.options.claim(parked.stepId, token);
      if (!claimed) continue;
      const { step, execution } = claimed;
      const task = this.options.registry.get(step.task);
      const taken = task
        ? await this.takeSlot(gate, claimed, token, lease, parked.fallbackRowId)
        : ({ kind: 'not_waiting' } as const);
      if (!task || taken.kind === 'not_waiting') {
        // Another span handed it a slot meanwhile (or this worker lacks its task): back to the queue, published now.
        await this.options.db.transaction((tx) => requeueStep(tx, step.id, token, execution.actor, { delayMs: 0 }));
        continue;
      }
      const stepLog = this.options.logger
        .child({ executionId: execution.id, stepId: step.id, task: step.task, actor: execution.actor })
        .child(stepContext(step));
      if (taken.kind === 'admitted') log.info('throttle slot handed over', { key: lease.key, to: execution.id });
      // Our lease was lost meanwhile: the waiter goes through admission as usual.
      this.options.start(claimed, token, task, stepLog, taken.kind === 'admitted' ? taken.admitted : null);
      return;
    }
  }

  /** After a handler's commit: an ended execution gives its lease back and wakes the next waiters. */
  private async releaseIfEnded(executionId: string, log: Logger): Promise<void> {
    const gate = this.options.gate;
    const execution = await this.options.db.read((tx) => tx.executions.get(executionId));
    if (!execution?.lease || execution.status === 'running' || execution.status === 'cancel_requested') return;
    if (await gate.release(execution.id, execution.lease))
      log.info('throttle slot released', { key: execution.lease.key });
  }
}

/** Thrown inside a hand-over's transaction to roll it back. */
const HAND_OVER_ABORTED = { notWaiting: new Error('not waiting'), leaseLost: new Error('lease lost') } as const;
