import { randomUUID } from 'node:crypto';
import type { Logger, RuntimeMetrics, TaskDefinition, TaskRegistry } from '@jetcel/core';
import type { Db, ExecutionLease, ExecutionRecord, Passed, PassInput, StepRecord, Tx } from '@jetcel/db';
import { requeueStep, stepMessage } from '../execution/step-messages.ts';
import { stepContext } from '../step/label.ts';
import { prepare, prepareIn, type Claimed } from '../step/prepare.ts';
import { ThrottleTimeoutError, type SpanEnd, type ThrottleGate } from './slots.ts';

/** Whether a claimed step may run now: admitted to its span, waiting for a slot, or refused (timed out). */
export type Admitted =
  | { kind: 'admitted'; claimed: Claimed; lease: ExecutionLease | null }
  | { kind: 'waiting' }
  | { kind: 'refused'; error: unknown };

/** A span ended in a step's commit: what the runner does once that commit is durable (`afterCommit`). */
export interface SpanEnded<S> {
  end: SpanEnd;
  /** The waiter handed the slot, claimed and prepared for this worker in the same commit; absent if it runs elsewhere. */
  next?: { claimed: Claimed; token: string; task: TaskDefinition<unknown, S> };
  /** The waiter's step claimed by the commit but run elsewhere (another queue): published again after COMMIT. */
  requeue?: { stepId: string; token: string; actor: string | null };
}

/** The hand-over a one-statement span-ending commit makes: its input, the waiter's claim token, the lease it held. */
export interface PlannedPass {
  input: PassInput;
  token: string;
  lease: ExecutionLease;
}

export interface ThrottledSpanOptions<S> {
  db: Db;
  gate: ThrottleGate;
  logger: Logger;
  registry: TaskRegistry<S>;
  metrics?: RuntimeMetrics;
  /** This worker's name and claim lifetime: a waiter handed a slot is claimed for it. */
  worker: string;
  claimTtlMs: number;
  /** Runs a waiter handed a slot, through the same path as a delivered step (no message of its own). */
  start: (
    claimed: Claimed,
    token: string,
    task: TaskDefinition<unknown, S>,
    log: Logger,
    admitted: Admitted | null,
  ) => void;
}

/**
 * A throttled span, from the admission of its first step to the hand-over of its slot: a step
 * that must hold its execution's scope lease is admitted (or waits, or is refused); the commit
 * that ends the main chain gives the slot to the longest waiter, whose step then runs here.
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
    // Waiting goes back to the queue with a fallback timer, in the statement that joins the waiting list.
    // A waiter's fallback timer is written by the statement that parks it.
    const fallback = { id: randomUUID(), ...stepMessage(step, execution.actor) };
    const admission = await gate.enter(execution, step.id, throttle, token, fallback);
    if (admission.kind === 'wait') {
      this.options.metrics?.throttleWaited({ kind: throttle.kind });
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
   * Inside the commit of a step that holds its execution's lease: once the main chain has no step
   * left to run, the span ends and, in this same commit, its slot goes to the longest waiter,
   * whose step is claimed and prepared for this worker (or published, if it runs on another
   * queue), or the slot is freed. Null while the span goes on.
   */
  async endInCommit(tx: Tx, step: StepRecord, lease: ExecutionLease): Promise<SpanEnded<S> | null> {
    const { gate, worker, claimTtlMs } = this.options;
    const token = randomUUID();
    const end = await gate.endInCommit(tx, step.executionId, lease, { token, worker, claimTtlMs });
    const ended = this.ended(step, end, token);
    if (ended.requeue) {
      // Another queue's step: it holds the slot on record, and goes back to its queue published now.
      await requeueStep(tx, ended.requeue.stepId, ended.requeue.token, ended.requeue.actor, { delayMs: 0 });
      delete ended.requeue;
    }
    if (ended.next) ended.next.claimed = await prepareIn(tx, ended.next.claimed, ended.next.token);
    return ended.end ? { ...ended, end: ended.end } : null;
  }

  /**
   * What the one-statement commit of the span's last step passes on (`jetcel_commit_span_end`):
   * the slot goes to the longest waiter, its step claimed for this worker with `token`.
   */
  planPass(step: StepRecord, lease: ExecutionLease): PlannedPass {
    const { gate, worker, claimTtlMs } = this.options;
    const token = randomUUID();
    return { input: gate.passInput(step.executionId, lease, { token, worker, claimTtlMs }), token, lease };
  }

  /** The span's end as the one-statement commit decided it; the waiter's step is prepared (or requeued) after COMMIT. */
  passed(step: StepRecord, plan: PlannedPass | null, passed: Passed | null | undefined): SpanEnded<S> | null {
    if (!plan || !passed) return null;
    const end = this.options.gate.spanEnd(step.executionId, plan.lease, plan.input.lease, passed);
    const ended = this.ended(step, end, plan.token);
    return ended.end ? { ...ended, end: ended.end } : null;
  }

  /** A span's end: the waiter's step to run here, or (another queue's, or a task this worker lacks) to requeue. */
  private ended(step: StepRecord, end: SpanEnd | null, token: string): Partial<SpanEnded<S>> {
    if (!end || end.kind === 'released') return end ? { end } : {};
    const { step: next, execution } = end.claimed;
    const task = this.options.registry.get(next.task);
    if (!task || next.queue !== step.queue) return { end, requeue: { stepId: next.id, token, actor: execution.actor } };
    const claimed: Claimed = {
      step: next,
      execution,
      resource: next.resourceRef ? undefined : null,
      preparationError: undefined,
    };
    return { end, next: { claimed, token, task } };
  }

  /**
   * Once the ending commit is durable: the slot's key moves to the waiter in KV (one
   * compare-and-set) or is released, and the waiter's step starts here at once.
   */
  async afterCommit(ended: SpanEnded<S>, log: Logger): Promise<void> {
    const { end, requeue } = ended;
    const { db } = this.options;
    // The key's compare-and-set and the waiter's first transition (unless the commit applied it) at once.
    const waiter = ended.next;
    const [lease, next] = await Promise.all([
      this.options.gate.afterEnd(end).catch((error: unknown) => {
        // The lease expires on its own; a waiter's admission takes the slot over (it is its own on record).
        log.warn('passing the throttle slot on failed', { key: end.from.key, error: String(error) });
        return null;
      }),
      waiter &&
        prepare(db, waiter.claimed, waiter.token).then(
          (claimed) => ({ ...waiter, claimed }),
          (error: unknown) => {
            // Its claim expires and the step is taken over, as after a crash of this worker.
            log.warn('preparing the step handed the slot failed', { error: String(error) });
            return undefined;
          },
        ),
      requeue && db.transaction((tx) => requeueStep(tx, requeue.stepId, requeue.token, requeue.actor, { delayMs: 0 })),
    ]);
    if (end.kind === 'released') {
      log.info('throttle slot released', { key: end.from.key });
      return;
    }
    log.info('throttle slot handed over', {
      key: end.from.key,
      to: end.claimed.execution.id,
      ...(next ? {} : { remote: true }),
    });
    if (!next) return;
    const { claimed, token, task } = next;
    const { step, execution } = claimed;
    const stepLog = this.options.logger
      .child({ executionId: execution.id, stepId: step.id, task: step.task, actor: execution.actor })
      .child(stepContext(step));
    // Without the KV key (lost meanwhile), the step goes through admission as a delivered one would.
    const admitted: Admitted | null = lease
      ? { kind: 'admitted', claimed: { ...claimed, execution: { ...execution, lease } }, lease }
      : null;
    this.options.start(claimed, token, task, stepLog, admitted);
  }
}
