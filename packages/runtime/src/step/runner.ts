import { randomUUID } from 'node:crypto';
import { Heartbeats, type Delivery, type Disposition } from '@jetcel/bus';
import { describeFailure, type ExecutorRegistry, type Logger } from '@jetcel/core';
import { ClaimLostError, faultPoint, FAULT_POINTS } from '@jetcel/db';
import { inSpan } from '@jetcel/telemetry';
import { Progress } from '../execution/progress.ts';
import { newOffer, type LocalClaimOffer } from '../execution/local-claim.ts';
import { RUNTIME_STEPS } from '../execution/runtime-steps.ts';
import { requeueStep } from '../execution/step-messages.ts';
import { decodeTaskDelivery, type DecodedTask } from '../delivery/decode.ts';
import { DeliveryGate } from '../delivery/gate.ts';
import type { RunControl } from '../run/run-control.ts';
import { startTaskTimer } from '../run/task-timer.ts';
import { failUnknownTaskStep } from '../execution/unknown-task.ts';
import { ThrottledSpan, type Admitted } from '../throttle/span.ts';
import { handBack, type ClaimedStep, type Ran } from './claimed-step.ts';
import { commitInGroup, commitStep } from './commit.ts';
import { commitFast, planFastCommit, type FastCommit } from './commit-fast.ts';
import { acceptDelivery, labelStepSpan } from './deliver.ts';
import { stepContext } from './label.ts';
import { prepareHeld, type Claimed } from './prepare.ts';
import { runStepTask, type StepHarness } from './run-step.ts';
import { DEFAULT_CHAIN_LIMIT, type StepRunnerOptions } from './options.ts';
import { ShutdownError } from './shutdown-error.ts';

export type { StepRunnerOptions } from './options.ts';
export { ShutdownError } from './shutdown-error.ts';

const NO_EXECUTORS: Pick<ExecutorRegistry, 'get'> = { get: () => undefined };

/**
 * Runs claimed steps: claim (for a delivery), run with heartbeats, commit the result and what
 * comes next. When that commit claims the next step for this worker, it runs next in the same slot.
 */
export class StepRunner<S> {
  readonly #claimTtlMs: number;
  readonly #progress: Progress;
  readonly #gate: DeliveryGate;
  readonly #harness: StepHarness<S>;
  /** Null without a throttle gate: throttles are not enforced. */
  readonly #span: ThrottledSpan<S> | null;
  /** Steps started without a delivery or slot of their own (a throttle slot handed to them). */
  readonly #unslotted = new Set<Promise<unknown>>();
  #stopping = false;

  constructor(private readonly options: StepRunnerOptions<S>) {
    this.#claimTtlMs = options.claimTtlMs ?? 30_000;
    this.#gate = new DeliveryGate(options);
    this.#harness = {
      db: options.db,
      services: options.services,
      claimTtlMs: this.#claimTtlMs,
      heartbeatMs: options.heartbeatMs ?? Math.max(100, Math.floor(this.#claimTtlMs / 3)),
      heartbeats: options.heartbeats ?? new Heartbeats(),
      throttle: options.throttle,
      running: new Set<RunControl>(),
    };
    this.#span = options.throttle
      ? new ThrottledSpan({
          db: options.db,
          gate: options.throttle,
          logger: options.logger,
          registry: options.registry,
          ...(options.metrics ? { metrics: options.metrics } : {}),
          worker: options.worker,
          claimTtlMs: this.#claimTtlMs,
          start: (claimed, token, task, log, admitted) => {
            log.info('step started', { handedOver: true });
            const job = { claimed, token, task, log, admitted, chain: 1, lane: 'short' as const };
            const running = this.start(job)
              .catch((error: unknown) => log.error('handed-over step failed', { error: String(error) }))
              .finally(() => this.#unslotted.delete(running));
            this.#unslotted.add(running);
          },
        })
      : null;
    const { registry: catalog, logger, longPlanSteps } = options;
    this.#progress = new Progress({
      catalog,
      executors: options.executors ?? NO_EXECUTORS,
      logger,
      longPlanSteps,
      ...(options.throttle ? { throttleRecheckMs: options.throttle.recheckMs } : {}),
    });
  }

  /** The worker stops: no step claims the next one locally any more (it is published instead). */
  draining(): void {
    this.#stopping = true;
  }

  /** Graceful shutdown: aborts the running steps; each is handed back (not a crash, not an attempt). */
  shutdown(): void {
    this.#stopping = true;
    for (const controller of this.#harness.running) controller.abort(new ShutdownError());
  }

  /** Waits for the steps started without a delivery (the worker's stop waits for them as for deliveries). */
  async idle(): Promise<void> {
    await Promise.allSettled([...this.#unslotted]);
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
    return inSpan('jetcel.step', { kind: 'consumer', parentHeaders: delivery.headers }, async (span) => {
      const accepted = await acceptDelivery(
        {
          gate: this.#gate,
          logger: this.options.logger,
          registry: this.options.registry,
          crashBudget: this.options.crashBudget ?? 3,
          claim: (stepId, token, resourceRef) => this.claim(stepId, token, resourceRef),
          // Dead-lettered as unknown: the step can never run, so it fails its execution like any final failure.
          failUnknown: (stepId, what, log) =>
            failUnknownTaskStep({ progress: this.#progress, span: this.#span }, stepId, what, log),
        },
        decoded,
        delivery,
        span,
      );
      return accepted.kind === 'settled' ? accepted.disposition : this.start(accepted.step, delivery);
    });
  }

  /**
   * The one entry for a claimed step, however it came (a delivery, a throttle slot handed to it):
   * runs it, then each next step its commit claimed for this worker, in this slot, up to the chain
   * limit. Settles the delivery, if any, as its own step ended.
   */
  async start(first: ClaimedStep<S>, delivery?: Delivery): Promise<Disposition> {
    const ran = await this.runOne(first, delivery);
    let next = ran.next;
    while (next) {
      next.log.info('step started', { local: true, chain: next.chain });
      next = (await this.runOne(next, undefined)).next;
    }
    return ran.disposition;
  }

  /** Runs one claimed step, in the delivery's span or (without a delivery) in a span of its own. */
  private async runOne(job: ClaimedStep<S>, delivery: Delivery | undefined): Promise<Ran<S>> {
    if (delivery) return this.runStep(job, delivery);
    // No delivery (run locally, or handed a slot): its span is a child of the span that ran before it.
    return inSpan('jetcel.step', { kind: 'internal' }, (span) => {
      labelStepSpan(span, job.claimed.step);
      return this.runStep(job, undefined);
    });
  }

  /**
   * Runs a claimed step through to its commit: admission to its throttled span (unless a slot was
   * handed to it), the task, its result and what comes next (claimed here when it may run here),
   * and the end of the span.
   */
  private async runStep(job: ClaimedStep<S>, delivery: Delivery | undefined): Promise<Ran<S>> {
    const { claimed, token, task, log } = job;
    const { db } = this.options;
    const { step } = claimed;
    let discarded = 'nothing';
    try {
      const byRuntime = RUNTIME_STEPS.get(step.task);
      if (byRuntime) {
        const executors = this.options.executors ?? NO_EXECUTORS;
        await db.transaction((tx) => byRuntime(tx, this.#progress, executors, step, token, log));
        return { disposition: { kind: 'ack' }, next: null };
      }
      const admitted =
        job.admitted ??
        (await this.admit(claimed, token, log).catch(async (error: unknown): Promise<Admitted> => {
          if (error instanceof ClaimLostError) throw error;
          // The broker hiccuped (an election, a timeout): not a crash. Back to the queue shortly.
          log.warn('throttle admission failed; retrying shortly', { error: String(error) });
          await db.transaction((tx) => requeueStep(tx, step.id, token, claimed.execution.actor, { delayMs: 2000 }));
          return { kind: 'waiting' };
        }));
      if (admitted.kind === 'waiting') return { disposition: { kind: 'ack' }, next: null };
      const finished = startTaskTimer(this.options.metrics, { ...step, publishedAt: delivery?.publishedAt });
      // Heartbeats renew the lease (new revisions): the span's end hands over the latest one.
      const lease = { current: admitted.kind === 'admitted' ? admitted.lease : null };
      // The span's last task: the waiters next in line are read and their transitions planned while it runs.
      const successors =
        lease.current && admitted.kind === 'admitted' && this.#span?.mayEndSpan(step, admitted.claimed.execution)
          ? this.#span.planSuccessors(lease.current)
          : null;
      const outcome =
        admitted.kind === 'refused'
          ? ({ kind: 'error', error: admitted.error } as const)
          : await runStepTask(this.#harness, task, admitted.claimed, token, delivery, log, lease);
      faultPoint(FAULT_POINTS.afterBackendCall, `${task.name} ${step.executionId}`);
      if (outcome.kind === 'error' && outcome.error instanceof ShutdownError) {
        await handBack(db, claimed, token, delivery !== undefined, job.lane);
        finished('handed_back');
        log.info('step handed back at shutdown');
        return { disposition: { kind: 'nak', delayMs: 0 }, next: null };
      }
      discarded = outcome.kind === 'error' ? `error: ${describeFailure(outcome.error).message}` : outcome.outcome.kind;
      const offer = this.offer(job);
      const held = lease.current;
      // A lease holder's span may end in its commit: the slot is passed on in that same statement.
      const pass = held ? (this.#span?.planPass(step, held) ?? null) : null;
      const ran = admitted.kind === 'refused' ? claimed : admitted.claimed;
      const fast = planFastCommit(
        db,
        this.options.registry,
        ran,
        token,
        outcome,
        offer,
        this.options.longPlanSteps,
        pass?.input,
      );
      // A commit that ends the span: the key is renewed beside it, for the waiter it may hand the slot to,
      // and it carries the transitions planned for the waiters next in line.
      const ending = held && pass && fast && endsSpan(fast) ? fast : null;
      const sent = ending && successors ? successors.ready() : [];
      if (ending && sent.length > 0) ending.input = { ...ending.input, successors: sent.map(({ plan }) => plan) };
      const bumped = held && ending ? this.#span?.bump(step, held) : undefined;
      // One statement when it can; else the stores. Either way concurrent commits share one COMMIT.
      const committed = await commitFast(db, fast, log)
        .then(async (done) =>
          done !== null
            ? {
                outcome: done,
                spanEnded:
                  this.#span?.passed(
                    step,
                    pass,
                    fast?.passed,
                    fast?.successor ? { successor: fast.successor, sent } : undefined,
                  ) ?? null,
              }
            : commitInGroup(db, outcome, async (tx, result) => ({
                outcome: await commitStep(tx, this.#progress, task, step, token, result, log, offer),
                spanEnded: held && this.#span ? await this.#span.endInCommit(tx, step, held) : null,
              })),
        )
        .catch((error: unknown) => {
          if (error instanceof ClaimLostError) finished('claim_lost');
          throw error;
        });
      finished(committed.outcome);
      // The slot's key moves to the waiter, whose step starts here at once.
      if (committed.spanEnded) await this.#span?.afterCommit(committed.spanEnded, log, bumped);
      faultPoint(FAULT_POINTS.afterStepCommitBeforeAck, `${step.task} ${step.executionId}`);
      return { disposition: { kind: 'ack' }, next: offer ? await this.continuation(offer, job) : null };
    } catch (error) {
      if (error instanceof ClaimLostError) {
        log.warn('claim lost before commit; result discarded', { discarded });
        return { disposition: { kind: 'ack' }, next: null };
      }
      throw error;
    }
  }

  /** This slot, offered to the next step the commit queues, while the chain is under its limit (a long-lane step: in a long-lane slot only). */
  private offer(job: ClaimedStep<S>): LocalClaimOffer | null {
    const { queue, registry } = this.options;
    if (!queue || this.#stopping || job.chain >= (this.options.chainLimit ?? DEFAULT_CHAIN_LIMIT)) return null;
    return newOffer({
      executionId: job.claimed.step.executionId,
      queue,
      worker: this.options.worker,
      token: randomUUID(),
      ttlMs: this.#claimTtlMs,
      runs: (name) => !RUNTIME_STEPS.has(name) && registry.get(name) !== undefined,
      longAllowed: job.lane === 'long',
    });
  }

  /** The step the commit claimed for this worker, prepared to run next in this slot. */
  private async continuation(offer: LocalClaimOffer, job: ClaimedStep<S>): Promise<ClaimedStep<S> | null> {
    const { taken, execution } = offer;
    const task = taken ? this.options.registry.get(taken.step.task) : undefined;
    if (!taken || !execution || !task) return null;
    const claimed = await this.prepared({ step: taken.step, execution }, offer.token, taken.resource);
    const log = this.options.logger
      .child({ executionId: execution.id, stepId: taken.step.id, task: task.name, actor: execution.actor })
      .child(stepContext(taken.step));
    return {
      claimed,
      token: offer.token,
      task,
      log,
      admitted: null,
      chain: job.chain + 1,
      lane: job.lane,
    };
  }

  /** Claims a delivered step (one statement), then prepares it. */
  private async claim(stepId: string, token: string, resourceRef: string | undefined) {
    const input = { token, worker: this.options.worker, ttlMs: this.#claimTtlMs };
    const result = await this.options.db.claimStep(stepId, input, resourceRef);
    if (result.kind !== 'claimed') return result;
    return {
      kind: 'claimed' as const,
      takeover: result.takeover,
      value: await this.prepared(result, token, result.resource),
    };
  }

  /** Reads the resource (unless `kept`) and applies the first transition, unless a throttle admission comes first. */
  private async prepared(held: Pick<Claimed, 'step' | 'execution'>, token: string, kept?: Claimed['resource']) {
    const deferred = (this.#span?.needsAdmission(held.step, held.execution) ?? false) && !held.execution.lease;
    // A step that may wait for a slot reads its resource once admitted, not as it was at the claim.
    return prepareHeld(this.options.db, held, token, { deferred, kept: deferred ? undefined : kept });
  }

  /** Throttled spans: without a gate every step is admitted as it is. */
  private async admit(claimed: Claimed, token: string, log: Logger): Promise<Admitted> {
    if (!this.#span) return { kind: 'admitted', claimed, lease: claimed.execution.lease };
    return this.#span.admit(claimed, token, log);
  }
}

/** Whether a one-statement commit ends its execution's main chain: no next step, or a handler's. */
function endsSpan(fast: FastCommit): boolean {
  return fast.input.next === null || fast.input.next.step.role !== 'main';
}
