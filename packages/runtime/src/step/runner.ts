import { randomUUID } from 'node:crypto';
import { Heartbeats, type Delivery, type Disposition } from '@jetcel/bus';
import { HEADERS } from '@jetcel/contracts';
import {
  BUILTIN_TASKS,
  describeFailure,
  type ExecutorRegistry,
  type Logger,
  type RuntimeMetrics,
  type TaskDefinition,
  type TaskRegistry,
} from '@jetcel/core';
import { ClaimLostError, faultPause, faultPoint, FAULT_POINTS, type Db, type ExecutionLease } from '@jetcel/db';
import { Progress } from '../execution/progress.ts';
import { decodeTaskDelivery, type DecodedTask } from '../delivery/decode.ts';
import { DeliveryGate } from '../delivery/gate.ts';
import { RunControl } from '../run/run-control.ts';
import { runTask, type RunResult } from '../run/run-task.ts';
import { commitStep } from './commit.ts';
import { prepare, type Claimed } from './prepare.ts';
import { LeaseLostError, type ThrottleGate } from '../throttle/slots.ts';
import { runNestedExecutor } from '../execution/nested.ts';
import { failUnknownTaskStep, type UnknownTaskDeps } from '../execution/unknown-task.ts';
import { addStepMessage, requeueStep } from '../execution/step-messages.ts';
import { resourceReader } from '../run/resource-reader.ts';
import { stepContext } from './label.ts';
import { ThrottledSpan, type Admitted } from '../throttle/span.ts';
import { startTaskTimer } from '../run/task-timer.ts';
import { inSpan, type SpanHandle } from '@jetcel/telemetry';

export interface StepRunnerOptions<S> {
  db: Db;
  registry: TaskRegistry<S>;
  /** Executors that plans may nest (a nested executor runs as a step of its parent). */
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

const NO_EXECUTORS: Pick<ExecutorRegistry, 'get'> = { get: () => undefined };
/** Runs one delivered step: claim, run with heartbeats, commit its result and what comes next. */
export class StepRunner<S> {
  readonly #claimTtlMs: number;
  readonly #heartbeatMs: number;
  readonly #progress: Progress;
  readonly #gate: DeliveryGate;
  readonly #heartbeats: Heartbeats;
  /** Null without a throttle gate: throttles are not enforced. */
  readonly #span: ThrottledSpan<S> | null;
  readonly #running = new Set<RunControl>();
  /** Steps run after a slot was handed to them (no delivery of their own). */
  readonly #detached = new Set<Promise<void>>();

  constructor(private readonly options: StepRunnerOptions<S>) {
    this.#claimTtlMs = options.claimTtlMs ?? 30_000;
    this.#heartbeatMs = options.heartbeatMs ?? Math.max(100, Math.floor(this.#claimTtlMs / 3));
    this.#gate = new DeliveryGate(options);
    this.#heartbeats = options.heartbeats ?? new Heartbeats();
    this.#span = options.throttle
      ? new ThrottledSpan({
          db: options.db,
          gate: options.throttle,
          logger: options.logger,
          registry: options.registry,
          ...(options.metrics ? { metrics: options.metrics } : {}),
          worker: options.worker,
          claimTtlMs: this.#claimTtlMs,
          start: (claimed, token, task, log, admitted) => this.runDetached(claimed, token, task, log, admitted),
        })
      : null;
    this.#progress = new Progress({
      catalog: options.registry,
      executors: options.executors ?? NO_EXECUTORS,
      logger: options.logger,
    });
  }

  /**
   * Graceful shutdown: aborts the steps still running; each is handed back (its claim
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

  #unknownTaskDeps(): UnknownTaskDeps<S> {
    return { db: this.options.db, progress: this.#progress, span: this.#span };
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
      const ids = { executionId: message.executionId, stepId: message.stepId };
      const verdict = await gate.unknownTask(delivery, log, what, ids);
      // Dead-lettered: the step can never run, so it fails its execution like any final failure.
      if (verdict.kind === 'term') await failUnknownTaskStep(this.#unknownTaskDeps(), message.stepId, what, log);
      return verdict;
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
        // Group commit: concurrent steps' results share one durable COMMIT, each in its own savepoint.
        // A step holding its execution's lease ends the span in the same commit when its main chain is done.
        const held = lease.current;
        const committed = await this.options.db
          .groupTransaction(async (tx) => ({
            outcome: await commitStep(tx, this.#progress, task, step, token, outcome, stepLog),
            spanEnded: held && this.#span ? await this.#span.endInCommit(tx, step, held) : null,
          }))
          .catch((error: unknown) => {
            if (error instanceof ClaimLostError) finished('claim_lost');
            throw error;
          });
        finished(committed.outcome);
        // The slot's key moves to the waiter, whose step starts here at once.
        if (committed.spanEnded) await this.#span?.afterCommit(committed.spanEnded, stepLog);
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
   * a throttle admission must come first (the resource stays *_SCHEDULED while it waits).
   */
  private async claim(stepId: string, token: string) {
    const { db } = this.options;
    const result = await db.claimStep(stepId, {
      token,
      worker: this.options.worker,
      ttlMs: this.#claimTtlMs,
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
    const deferred = (this.#span?.needsAdmission(step, execution) ?? false) && !execution.lease;
    const value = deferred ? claimed : await prepare(this.options.db, claimed, token);
    return { kind: 'claimed' as const, takeover: result.takeover, value };
  }

  /** Throttled spans: without a gate every step is admitted as it is. */
  private async admit(claimed: Claimed, token: string, log: Logger): Promise<Admitted> {
    if (!this.#span) return { kind: 'admitted', claimed, lease: claimed.execution.lease };
    return this.#span.admit(claimed, token, log);
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
    const controller = new RunControl();
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
      // The scope lease is renewed with every heartbeat; a lost lease stops the step.
      const held = lease.current;
      if (held && this.options.throttle && !controller.aborted) {
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
          // One beat per step: on its message's heartbeat, or the worker's for a handed-over step.
          heartbeats: delivery?.heartbeat ?? this.#heartbeats,
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
