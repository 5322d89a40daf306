import { randomUUID } from 'node:crypto';
import type { Logger, RuntimeMetrics, TaskDefinition, TaskRegistry } from '@jetcel/core';
import type { Db, ExecutionLease, ExecutionRecord, Passed, PassInput, StepRecord, Tx } from '@jetcel/db';
import { requeueStep, stepMessage } from '../execution/step-messages.ts';
import { stepContext } from '../step/label.ts';
import { prepare, prepareIn, type Claimed } from '../step/prepare.ts';
import { ThrottleTimeoutError, type SpanEnd, type ThrottleGate } from './slots.ts';
import {
  planSuccessors,
  preparedBy,
  type AppliedSuccessor,
  type PlannedSuccessor,
  type SuccessorPlans,
} from './successors.ts';

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

  /**
   * The span's end as the one-statement commit decided it; the waiter's step is prepared (or
   * requeued) after COMMIT, unless the commit applied the transition planned for it (`applied`).
   */
  passed(
    step: StepRecord,
    plan: PlannedPass | null,
    passed: Passed | null | undefined,
    applied?: { successor: AppliedSuccessor; sent: PlannedSuccessor[] },
  ): SpanEnded<S> | null {
    if (!plan || !passed) return null;
    const end = this.options.gate.spanEnd(step.executionId, plan.lease, plan.input.lease, passed);
    const ended = this.ended(step, end, plan.token);
    if (ended.next && applied) ended.next.claimed = preparedBy(ended.next.claimed, applied.successor, applied.sent);
    return ended.end ? { ...ended, end: ended.end } : null;
  }

  /** Whether this step may be the last of its span: the main chain's last node. */
  mayEndSpan(step: StepRecord, execution: ExecutionRecord): boolean {
    return step.role === 'main' && step.position >= execution.plan.steps.length - 1;
  }

  /** While the span's last task runs: the first transitions of the waiters next in line, for the commit that ends it. */
  planSuccessors(lease: ExecutionLease): SuccessorPlans {
    return planSuccessors(this.options.db, lease, this.options.gate.defaultLimitFor(lease.kind));
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
   * compare-and-set) or is released, and the waiter's step starts here at once. With `bumped`
   * (the key renewed beside the commit, see `ThrottleGate.bump`) the waiter starts as soon as its
   * step is prepared, that revision its fencing token, while the key moves to it behind.
   */
  async afterCommit(ended: SpanEnded<S>, log: Logger, bumped?: Promise<ExecutionLease | null>): Promise<void> {
    const { end, requeue } = ended;
    const { db } = this.options;
    if (end.kind === 'handed') this.wakeIfHandedDue(end.claimed);
    if (end.kind === 'handed' && ended.next && !requeue && bumped) {
      const early = await bumped;
      if (early) return this.startBeforeTheKeyMoves(end, ended.next, early, log);
    }
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
      requeue &&
        db.leanTransaction((tx) => requeueStep(tx, requeue.stepId, requeue.token, requeue.actor, { delayMs: 0 })),
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
    // Without the KV key (lost meanwhile), the step goes through admission as a delivered one would.
    this.startHanded(next, lease);
  }

  /**
   * A waiter handed the slot while its message was due (made due for a free slot by its schedule
   * or a wake, not yet delivered): that free slot stays free, its message now finds the step
   * claimed, and the waiters behind it sleep until their fallback timers. A wake under the scope's
   * lock (one short transaction, only then) gives it to the next one. "Due" is read on the
   * database's clock: the hand-over's claim runs until its `now()` plus the claim lifetime.
   */
  private wakeIfHandedDue({ step, execution }: { step: StepRecord; execution: ExecutionRecord }): void {
    const throttle = execution.plan.throttle;
    const handedAt = step.claimedUntil && step.claimedUntil.getTime() - this.options.claimTtlMs;
    if (throttle && handedAt && step.notBefore.getTime() <= handedAt)
      void this.options.gate.wake(throttle.kind, throttle.scope);
  }

  /** The waiter handed the slot starts with `bumped` as its lease; the key's holder becomes it meanwhile. */
  private async startBeforeTheKeyMoves(
    end: Extract<SpanEnd, { kind: 'handed' }>,
    waiter: NonNullable<SpanEnded<S>['next']>,
    bumped: ExecutionLease,
    log: Logger,
  ): Promise<void> {
    const lease: ExecutionLease = { ...end.lease, revision: bumped.revision };
    const moving = this.options.gate.afterEnd({ ...end, from: bumped }).then(
      (moved) => {
        // Its next renewal compares against the key's revision: the one the move wrote, unless renewed since.
        if (moved && lease.revision === bumped.revision) lease.revision = moved.revision;
      },
      (error: unknown) => {
        // Its next renewal finds the key still the ending holder's and stops the step (lease lost).
        log.warn('passing the throttle slot on failed', { key: end.from.key, error: String(error) });
      },
    );
    const claimed = await prepare(this.options.db, waiter.claimed, waiter.token).catch((error: unknown) => {
      log.warn('preparing the step handed the slot failed', { error: String(error) });
      return undefined;
    });
    log.info('throttle slot handed over', { key: end.from.key, to: end.claimed.execution.id, early: true });
    if (!claimed) {
      await moving;
      return;
    }
    this.startHanded({ ...waiter, claimed }, lease);
  }

  /** Runs the waiter's step through the same path as a delivered one; admitted when it holds `lease`. */
  private startHanded(next: NonNullable<SpanEnded<S>['next']>, lease: ExecutionLease | null): void {
    const { claimed, token, task } = next;
    const { step, execution } = claimed;
    const stepLog = this.options.logger
      .child({ executionId: execution.id, stepId: step.id, task: step.task, actor: execution.actor })
      .child(stepContext(step));
    const admitted: Admitted | null = lease
      ? { kind: 'admitted', claimed: { ...claimed, execution: { ...execution, lease } }, lease }
      : null;
    this.options.start(claimed, token, task, stepLog, admitted);
  }

  /** Beside a commit that ends the span: the key renewed, whose revision a waiter handed the slot starts with. */
  bump(step: StepRecord, lease: ExecutionLease): Promise<ExecutionLease | null> {
    return this.options.gate.bump(step.executionId, lease);
  }
}
