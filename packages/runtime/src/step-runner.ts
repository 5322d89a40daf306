import { randomUUID } from 'node:crypto';
import { Heartbeats, type Delivery, type Disposition } from '@jetcel/bus';
import { HEADERS, parseLeaseKey } from '@jetcel/contracts';
import {
  BUILTIN_TASKS,
  describeFailure,
  isGroup,
  type ExecutorRegistry,
  type Logger,
  type RuntimeMetrics,
  type TaskDefinition,
  type TaskRegistry,
} from '@jetcel/core';
import {
  ClaimLostError,
  faultPause,
  faultPoint,
  FAULT_POINTS,
  type Db,
  type ExecutionLease,
  type ExecutionRecord,
  type StepRecord,
  type Waiter,
} from '@jetcel/db';
import { Progress } from './progress.ts';
import { decodeTaskDelivery, type DecodedTask } from './delivery/decode.ts';
import { DeliveryGate } from './delivery/gate.ts';
import { runTask, type RunResult } from './run/run-task.ts';
import { commitStep } from './step/commit.ts';
import { prepare, prepareIn, type Claimed } from './step/prepare.ts';
import { LeaseLostError, ThrottleTimeoutError, type ThrottleGate } from './throttle.ts';
import { runNestedExecutor } from './nested.ts';
import { addStepMessage, requeueStep } from './step-messages.ts';
import { resourceReader } from './resource-reader.ts';
import { stepLabel } from './step-label.ts';
import { startTaskTimer } from './task-timer.ts';
import { inSpan, type SpanHandle } from '@jetcel/telemetry';

export interface StepRunnerOptions<S> {
  db: Db;
  registry: TaskRegistry<S>;
  /** Executors that plans may nest (SPEC B7). */
  executors?: Pick<ExecutorRegistry, 'get'>;
  services: S;
  logger: Logger;
  worker: string;
  /** Claim lifetime; heartbeats extend it. @defaultValue 30000 */
  claimTtlMs?: number;
  /** Heartbeat period for claims and broker. @defaultValue claimTtlMs / 3 */
  heartbeatMs?: number;
  /** The worker's heartbeat owner (one timer for every in-flight task); default: the runner's own. */
  heartbeats?: Heartbeats;
  /** How long to hand back a message naming a task this worker does not know. @defaultValue 30000 */
  unknownTaskDelayMs?: number;
  /** Throttled spans (scope leases); without it throttles are not enforced. */
  throttle?: ThrottleGate;
  /** Takeovers (a holder died mid-step) tolerated before the step is dead-lettered. @defaultValue 3 */
  crashBudget?: number;
  /** How long a task name or message version this worker does not know may wait for a newer worker. @defaultValue 10 min */
  unknownTaskGraceMs?: number;
  /** Where task starts, outcomes and throttle waits are reported. */
  metrics?: RuntimeMetrics;
}

/** The worker is shutting down: the step goes back to the queue. */
export class ShutdownError extends Error {
  constructor() {
    super('The worker is shutting down');
    this.name = 'ShutdownError';
  }
}

type Admitted =
  | { kind: 'admitted'; claimed: Claimed; lease: ExecutionLease | null }
  | { kind: 'waiting' }
  | { kind: 'refused'; error: unknown };

const NO_EXECUTORS: Pick<ExecutorRegistry, 'get'> = { get: () => undefined };
/** A claim that ignores `not_before` (ten years of allowed skew). */
const ANY_TIME_MS = 10 * 365 * 24 * 3600 * 1000;
/** How much longer a waiter parked in another process may have waited before a local hand-over yields to it. */
const HAND_OVER_SKEW_MS = 1000;

/** Runs one delivered step: claim, run with heartbeats, commit its result and what comes next. */
export class StepRunner<S> {
  readonly #claimTtlMs: number;
  readonly #heartbeatMs: number;
  readonly #progress: Progress;
  readonly #gate: DeliveryGate;
  readonly #heartbeats: Heartbeats;
  readonly #running = new Set<AbortController>();
  /** Steps run after a slot was handed to them (no delivery of their own). */
  readonly #detached = new Set<Promise<void>>();

  constructor(private readonly options: StepRunnerOptions<S>) {
    this.#claimTtlMs = options.claimTtlMs ?? 30_000;
    this.#heartbeatMs = options.heartbeatMs ?? Math.max(100, Math.floor(this.#claimTtlMs / 3));
    this.#gate = new DeliveryGate(options);
    this.#heartbeats = options.heartbeats ?? new Heartbeats();
    this.#progress = new Progress({
      catalog: options.registry,
      executors: options.executors ?? NO_EXECUTORS,
      logger: options.logger,
    });
  }

  /**
   * Graceful shutdown (SPEC G3): aborts the steps still running; each is handed back (its claim
   * released, the message nak'd) so another worker runs it at once. Not a crash, not an attempt.
   */
  shutdown(): void {
    for (const controller of this.#running) controller.abort(new ShutdownError());
  }

  /** Waits for the steps run after a hand-over (the worker's stop waits for them as for deliveries). */
  async idle(): Promise<void> {
    await Promise.allSettled([...this.#detached]);
  }

  get progress(): Progress {
    return this.#progress;
  }

  /** Decodes a delivered task message and runs it as a step (a background message here is undecodable). */
  async handle(delivery: Delivery): Promise<Disposition> {
    return this.deliver(decodeTaskDelivery(delivery.data), delivery);
  }

  /** One span per delivery, a child of the span that queued the step (its message's `traceparent`). */
  async deliver(decoded: DecodedTask, delivery: Delivery): Promise<Disposition> {
    return inSpan('jetcel.step', { kind: 'consumer', parentHeaders: delivery.headers }, (span) =>
      this.deliverInSpan(decoded, delivery, span),
    );
  }

  private async deliverInSpan(decoded: DecodedTask, delivery: Delivery, span: SpanHandle): Promise<Disposition> {
    const { logger } = this.options;
    const gate = this.#gate;
    if (decoded.kind === 'undecodable') return gate.letter(delivery, logger, 'UNDECODABLE', decoded.reason);
    if (decoded.kind === 'background')
      return gate.letter(delivery, logger, 'UNDECODABLE', 'a background task message where a step was expected');
    const message = decoded.message;
    span.rename(`step ${message.task}`);
    span.set({
      'jetcel.task': message.task,
      'jetcel.queue': message.queue,
      'jetcel.execution_id': message.executionId,
      'jetcel.step_id': message.stepId,
    });
    const log = logger.child({
      executionId: message.executionId,
      stepId: message.stepId,
      task: message.task,
      actor: delivery.headers[HEADERS.actor] ?? null,
    });
    const task = decoded.kind === 'newer_version' ? undefined : this.options.registry.get(message.task);
    if (!task) {
      // Rolling upgrades: a newer worker may be on its way; wait out the grace period.
      const what = decoded.kind === 'newer_version' ? `message version ${message.v}` : `task ${message.task}`;
      return gate.unknownTask(delivery, log, what, { executionId: message.executionId, stepId: message.stepId });
    }
    const token = randomUUID();
    const claim = await this.claim(message.stepId, token);
    if (claim.kind !== 'claimed') {
      if (claim.kind === 'unknown_step')
        return gate.letter(
          delivery,
          logger,
          'UNATTRIBUTABLE',
          `no step ${message.stepId} of execution ${message.executionId}`,
        );
      log.debug('delivery skipped', { reason: claim.kind });
      return { kind: 'ack' };
    }
    const { step } = claim.value;
    const crashBudget = this.options.crashBudget ?? 3;
    if (step.takeovers > crashBudget)
      // It keeps killing its workers (a poison message): stop feeding it to them.
      return gate.letter(
        delivery,
        logger,
        'CRASH_BUDGET',
        `step taken over ${step.takeovers} times after its holder died (budget ${crashBudget})`,
        { executionId: step.executionId, stepId: step.id },
      );
    const stepLog = log.child(stepContext(step));
    stepLog.info('step started', { takeover: claim.takeover });
    return this.runClaimed(claim.value, token, task, delivery, stepLog, null);
  }

  /**
   * Runs a claimed step through to its commit: admission to its throttled span (unless a slot was
   * handed to it), the task, its result and what comes next, and the end of the span.
   */
  private async runClaimed(
    claimed: Claimed,
    token: string,
    task: TaskDefinition<unknown, S>,
    /** Null for a step handed a throttle slot: no broker message of its own. */
    delivery: Delivery | null,
    stepLog: Logger,
    preAdmitted: Admitted | null,
  ): Promise<Disposition> {
    const { step } = claimed;
    let discarded = 'nothing';
    try {
      if (step.task === BUILTIN_TASKS.runExecutor) {
        await this.options.db.transaction((tx) =>
          runNestedExecutor(tx, this.#progress, this.options.executors ?? NO_EXECUTORS, step, token, stepLog),
        );
      } else {
        const admitted = preAdmitted
          ? preAdmitted
          : await this.admit(claimed, token, stepLog).catch(async (error: unknown): Promise<Admitted> => {
              if (error instanceof ClaimLostError) throw error;
              // The broker hiccuped (an election, a timeout): not a crash. Back to the queue shortly.
              stepLog.warn('throttle admission failed; retrying shortly', { error: String(error) });
              await this.options.db.transaction((tx) =>
                requeueStep(tx, step.id, token, claimed.execution.actor, { delayMs: 2000 }),
              );
              return { kind: 'waiting' };
            });
        if (admitted.kind === 'waiting') return { kind: 'ack' };
        const finished = startTaskTimer(this.options.metrics, { ...step, publishedAt: delivery?.publishedAt });
        // Heartbeats renew the lease (new revisions): the span's end hands over the latest one.
        const lease = { current: admitted.kind === 'admitted' ? admitted.lease : null };
        const outcome =
          admitted.kind === 'refused'
            ? ({ kind: 'error', error: admitted.error } as const)
            : await this.run(task, admitted.claimed, token, delivery, stepLog, lease);
        faultPoint(FAULT_POINTS.afterBackendCall, `${task.name} ${step.executionId}`);
        if (outcome.kind === 'error' && outcome.error instanceof ShutdownError) {
          await this.options.db.transaction((tx) => tx.steps.handBack(step.id, token));
          finished('handed_back');
          stepLog.info('step handed back at shutdown');
          return { kind: 'nak', delayMs: 0 };
        }
        discarded =
          outcome.kind === 'error' ? `error: ${describeFailure(outcome.error).message}` : outcome.outcome.kind;
        // The last step of the main chain is done: its span ends with it, and the slot is passed on
        // while its result commits (if that commit fails, the step retries and is admitted again).
        const passing =
          lease.current && endsMainChain(claimed, outcome)
            ? this.passSlotOn(step.executionId, lease.current, stepLog)
            : undefined;
        // Group commit: concurrent steps' results share one durable COMMIT, each in its own savepoint.
        const ended = await this.options.db
          .groupTransaction((tx) => commitStep(tx, this.#progress, task, step, token, outcome, stepLog))
          .catch((error: unknown) => {
            if (error instanceof ClaimLostError) finished('claim_lost');
            throw error;
          })
          .finally(() => passing);
        finished(ended);
        if (lease.current && !passing) await this.afterLeasedCommit(step, lease.current, stepLog);
      }
    } catch (error) {
      if (error instanceof ClaimLostError) {
        stepLog.warn('claim lost before commit; result discarded', { discarded });
        return { kind: 'ack' };
      }
      throw error;
    }
    faultPoint(FAULT_POINTS.afterStepCommitBeforeAck, `${step.task} ${step.executionId}`);
    return { kind: 'ack' };
  }

  /**
   * Claims the step (one statement), reads its resource, and applies its first transition unless
   * a throttle admission must come first (SPEC D2: the resource stays *_SCHEDULED while it waits).
   */
  private async claim(stepId: string, token: string, options: { handedOver?: boolean } = {}) {
    const { db } = this.options;
    const result = await db.claimStep(stepId, {
      token,
      worker: this.options.worker,
      ttlMs: this.#claimTtlMs,
      // A waiter handed a slot runs now, before the fallback timer it was queued with.
      ...(options.handedOver ? { skewMs: ANY_TIME_MS } : {}),
    });
    if (result.kind !== 'claimed') return result;
    const { step, execution } = result;
    // The resource is read once, by `prepare` (locked when a patch applies); a step that must be
    // admitted to its throttled span first reads it after the admission.
    const claimed: Claimed = {
      step,
      execution,
      resource: step.resourceRef ? undefined : null,
      preparationError: undefined,
    };
    const deferred = this.needsAdmission(step, execution) && !execution.lease;
    const value = deferred ? claimed : await prepare(this.options.db, claimed, token);
    return { kind: 'claimed' as const, takeover: result.takeover, value };
  }

  private needsAdmission(step: StepRecord, execution: ExecutionRecord): boolean {
    return Boolean(
      this.options.throttle && execution.plan.throttle && step.role === 'main' && (step.throttled || execution.lease),
    );
  }

  /**
   * Throttled spans: takes or renews the execution's lease before the step runs. A step that must
   * wait goes back to the queue (no worker slot, no failed attempt) with a fallback timer.
   */
  private async admit(claimed: Claimed, token: string, log: Logger): Promise<Admitted> {
    const { step, execution } = claimed;
    const gate = this.options.throttle;
    const throttle = execution.plan.throttle;
    if (!gate || !throttle || !this.needsAdmission(step, execution))
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
   * left to run, the throttled span is over and its slot goes to the next waiter (SPEC D1).
   * Handlers run outside the span; after theirs, an ended execution releases what it still holds.
   */
  private async afterLeasedCommit(step: StepRecord, lease: ExecutionLease, log: Logger): Promise<void> {
    const gate = this.options.throttle;
    if (!gate) return;
    if (step.role !== 'main') return this.releaseIfEnded(step.executionId, log);
    const span = await this.options.db.read((tx) => tx.throttle.spanState(step.executionId, lease.kind, lease.scope));
    if (span.mainActive) return;
    await this.passSlotOn(step.executionId, lease, log, span);
  }

  /** The span of `fromExecutionId` is over: its slot goes to a waiter, or back to the scope. */
  private async passSlotOn(
    fromExecutionId: string,
    lease: ExecutionLease,
    log: Logger,
    known?: { firstWaiter: Waiter | null; limit: number | null },
  ): Promise<void> {
    const gate = this.options.throttle;
    if (!gate) return;
    try {
      const span =
        known ?? (await this.options.db.read((tx) => tx.throttle.spanState(fromExecutionId, lease.kind, lease.scope)));
      // A slot above a lowered limit (or a scope switched off) is not handed on: it is released.
      const slot = parseLeaseKey(lease.key)?.slot ?? Number.POSITIVE_INFINITY;
      if (slot >= (span.limit ?? gate.defaultLimit)) {
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
      const claim = await this.claim(parked.stepId, token, { handedOver: true });
      if (claim.kind !== 'claimed') continue;
      const { step, execution } = claim.value;
      const task = this.options.registry.get(step.task);
      const taken = task
        ? await this.takeSlot(gate, claim.value, token, lease, parked.fallbackRowId)
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
      this.runDetached(claim.value, token, task, stepLog, taken.kind === 'admitted' ? taken.admitted : null);
      return;
    }
  }

  /** Runs a handed-over step outside any delivery (its message was acked when it parked). */
  private runDetached(
    claimed: Claimed,
    token: string,
    task: TaskDefinition<unknown, S>,
    log: Logger,
    admitted: Admitted | null,
  ): void {
    log.info('step started', { handedOver: true });
    const running = inSpan('jetcel.step', { kind: 'internal' }, () =>
      this.runClaimed(claimed, token, task, null, log, admitted),
    )
      .then(async (verdict) => {
        if (verdict.kind === 'ack') return;
        // Handed back at shutdown: there is no message to nak, so one is published for it.
        await this.options.db.transaction(async (tx) => {
          const step = await tx.steps.get(claimed.step.id);
          if (step?.status === 'queued') addStepMessage(tx, step, claimed.execution.actor);
        });
      })
      .catch((error: unknown) => log.error('handed-over step failed', { error: String(error) }))
      .finally(() => this.#detached.delete(running));
    this.#detached.add(running);
  }

  /** After a handler's commit: an ended execution gives its lease back and wakes the next waiters. */
  private async releaseIfEnded(executionId: string, log: Logger): Promise<void> {
    const gate = this.options.throttle;
    const execution = await this.options.db.read((tx) => tx.executions.get(executionId));
    if (!gate || !execution?.lease || execution.status === 'running' || execution.status === 'cancel_requested') return;
    if (await gate.release(execution.id, execution.lease))
      log.info('throttle slot released', { key: execution.lease.key });
  }

  /** Runs the task; heartbeats extend the claim, tell the broker we live and notice a cancel. */
  private async run(
    task: TaskDefinition<unknown, S>,
    claimed: Claimed,
    token: string,
    delivery: Delivery | null,
    log: Logger,
    lease: { current: ExecutionLease | null },
  ): Promise<RunResult> {
    if (claimed.preparationError !== undefined) return { kind: 'error', error: claimed.preparationError };
    const { step, execution } = claimed;
    const initialLease = lease.current;
    const controller = new AbortController();
    this.#running.add(controller);
    const cancel = new AbortController();
    if (execution.status === 'cancel_requested') cancel.abort(new Error('execution cancelled'));
    const heartbeat = async (): Promise<void> => {
      delivery?.working();
      const state = await this.options.db.transaction((tx) => tx.steps.extend(step.id, token, this.#claimTtlMs), {
        relaxedDurability: true,
      });
      if (!state.held) controller.abort(new ClaimLostError(step.id));
      if (state.executionStatus === 'cancel_requested' && !cancel.signal.aborted)
        cancel.abort(new Error('execution cancelled'));
      // The scope lease is renewed with every heartbeat; a lost lease stops the step (SPEC D3).
      const held = lease.current;
      if (held && this.options.throttle && !controller.signal.aborted) {
        const renewed = await this.options.throttle.renew(execution.id, held);
        lease.current = renewed;
        if (!renewed) controller.abort(new LeaseLostError(held.key));
      }
    };
    try {
      return await runTask(
        task,
        {
          cancelSignal: cancel.signal,
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
          resources: resourceReader(this.options.db),
          services: this.options.services,
        },
        {
          args: step.args,
          controller,
          heartbeat,
          heartbeatMs: this.#heartbeatMs,
          heartbeats: this.#heartbeats,
          onHeartbeatError: (error: unknown) => log.warn('heartbeat failed', { error: String(error) }),
          beforeRun: () => {
            faultPause('before-task-run');
            faultPoint(FAULT_POINTS.beforeBackendCall, `${task.name} ${execution.id}`);
          },
        },
      );
    } finally {
      this.#running.delete(controller);
    }
  }
}

/** What every log line of a running step carries beside its execution, step id, task and actor. */
function stepContext(step: StepRecord): { step: string; resource: string | null; attempt: number } {
  return { step: stepLabel(step), resource: step.resourceRef, attempt: step.attempts };
}

/** Thrown inside a hand-over's transaction to roll it back. */
const HAND_OVER_ABORTED = { notWaiting: new Error('not waiting'), leaseLost: new Error('lease lost') } as const;

/** Whether this outcome ends the execution's main chain: the last plan node, a single step, done. */
function endsMainChain(claimed: Claimed, outcome: RunResult): boolean {
  const { step, execution } = claimed;
  const last = execution.plan.steps.length - 1;
  const node = execution.plan.steps[last];
  return (
    step.role === 'main' &&
    step.position === last &&
    node !== undefined &&
    !isGroup(node) &&
    outcome.kind === 'outcome' &&
    outcome.outcome.kind === 'done'
  );
}
