import { randomUUID } from 'node:crypto';
import { match } from 'ts-pattern';
import { HEADERS, parseResourceRef, taskMessageSchema, type TaskMessage } from '@jetcel/contracts';
import {
  continueAfterFailure,
  continueAfterSuccess,
  decideOnError,
  decideOnPoll,
  describeFailure,
  isEmptyPatch,
  ResourceGoneError,
  TransientError,
  type Continuation,
  type FailureInfo,
  type Logger,
  type ResourcePatch,
  type ResourceSnapshot,
  type TaskDefinition,
  type TaskOutcome,
  type TaskRegistry,
} from '@jetcel/core';
import {
  ClaimLostError,
  faultPoint,
  FAULT_POINTS,
  type Db,
  type ExecutionRecord,
  type StepRecord,
  type Tx,
} from '@jetcel/db';
import { queueStep } from './queue-step.ts';
import { addStepMessage } from './step-messages.ts';

/** How a delivery ends for the broker; mapped once, here, from what happened to the step. */
export type DeliveryVerdict = { kind: 'ack' } | { kind: 'nak'; delayMs: number } | { kind: 'term' };

export interface Delivery {
  data: Uint8Array;
  headers: Record<string, string>;
  deliveryCount: number;
  working(): void;
}

export interface StepRunnerOptions<S> {
  db: Db;
  registry: TaskRegistry<S>;
  services: S;
  logger: Logger;
  worker: string;
  /** Claim lifetime; heartbeats extend it. @defaultValue 30000 */
  claimTtlMs?: number;
  /** Heartbeat period for claims and broker. @defaultValue claimTtlMs / 3 */
  heartbeatMs?: number;
  /** How long to hand back a message naming a task this worker does not know. @defaultValue 30000 */
  unknownTaskDelayMs?: number;
}

type Claimed = {
  step: StepRecord;
  execution: ExecutionRecord;
  resource: ResourceSnapshot | null;
  preparationError: unknown;
};

/** Runs one delivered step: claim, run with heartbeats, commit its result and continuation. */
export class StepRunner<S> {
  readonly #claimTtlMs: number;
  readonly #heartbeatMs: number;

  constructor(private readonly options: StepRunnerOptions<S>) {
    this.#claimTtlMs = options.claimTtlMs ?? 30_000;
    this.#heartbeatMs = options.heartbeatMs ?? Math.max(100, Math.floor(this.#claimTtlMs / 3));
  }

  async handle(delivery: Delivery): Promise<DeliveryVerdict> {
    const { logger } = this.options;
    const message = decodeTaskMessage(delivery.data);
    if (!message) {
      logger.error('undecodable task message dropped', { size: delivery.data.byteLength });
      return { kind: 'term' };
    }
    const log = logger.child({
      executionId: message.executionId,
      stepId: message.stepId,
      task: message.task,
      actor: delivery.headers[HEADERS.actor] ?? null,
    });
    const task = this.options.registry.get(message.task);
    if (!task) {
      log.warn('task unknown to this worker; handing the message back', {
        delayMs: this.options.unknownTaskDelayMs ?? 30_000,
      });
      return { kind: 'nak', delayMs: this.options.unknownTaskDelayMs ?? 30_000 };
    }
    const token = randomUUID();
    const claim = await this.options.db.transaction((tx) => this.claim(tx, message.stepId, token), {
      relaxedDurability: true,
    });
    if (claim.kind !== 'claimed') {
      if (claim.kind === 'unknown_step') {
        log.error('task message names no known step; dropped');
        return { kind: 'term' };
      }
      log.debug('delivery skipped', { reason: claim.kind });
      return { kind: 'ack' };
    }
    const { step, execution } = claim.value;
    const stepLog = log.child({ resource: step.resourceRef, attempt: step.attempts });
    stepLog.info('step started', { takeover: claim.takeover });
    const outcome = await this.run(task, claim.value, token, delivery, stepLog);
    try {
      await this.options.db.transaction((tx) => this.commit(tx, task, step, execution, token, outcome, stepLog));
    } catch (error) {
      if (error instanceof ClaimLostError) {
        stepLog.warn('claim lost before commit; result discarded');
        return { kind: 'ack' };
      }
      throw error;
    }
    faultPoint(FAULT_POINTS.afterStepCommitBeforeAck);
    return { kind: 'ack' };
  }

  private async claim(tx: Tx, stepId: string, token: string) {
    const result = await tx.steps.claim(stepId, { token, worker: this.options.worker, ttlMs: this.#claimTtlMs });
    if (result.kind !== 'claimed') return result;
    const { step, execution } = result;
    let resource: ResourceSnapshot | null = null;
    let preparationError: unknown = undefined;
    if (step.resourceRef) {
      const ref = parseResourceRef(step.resourceRef);
      resource = await tx.resources.get(ref.type, ref.id, { forUpdate: true });
      if (!resource) preparationError = new ResourceGoneError(step.resourceRef);
    }
    if (resource && !step.prepared && step.before && !isEmptyPatch(step.before)) {
      try {
        resource = await tx.resources.applyPatch(resource, step.before, {
          executionId: execution.id,
          actor: execution.actor,
        });
        await tx.steps.markPrepared(step.id, token);
      } catch (error) {
        preparationError = error;
      }
    }
    return {
      kind: 'claimed' as const,
      takeover: result.takeover,
      value: { step, execution, resource, preparationError } satisfies Claimed,
    };
  }

  /** Runs the task under its AbortSignal; heartbeats extend the claim and tell the broker we live. */
  private async run(
    task: TaskDefinition<unknown, S>,
    claimed: Claimed,
    token: string,
    delivery: Delivery,
    log: Logger,
  ): Promise<RunResult> {
    if (claimed.preparationError !== undefined) return { kind: 'error', error: claimed.preparationError };
    const { step, execution } = claimed;
    const controller = new AbortController();
    const heartbeat = async (): Promise<void> => {
      delivery.working();
      const state = await this.options.db.transaction((tx) => tx.steps.extend(step.id, token, this.#claimTtlMs), {
        relaxedDurability: true,
      });
      if (!state.held) controller.abort(new ClaimLostError(step.id));
    };
    const timer = setInterval(() => {
      heartbeat().catch((error: unknown) => log.warn('heartbeat failed', { error: String(error) }));
    }, this.#heartbeatMs);
    const timeout =
      task.timeoutMs === undefined
        ? undefined
        : setTimeout(
            () => controller.abort(new TransientError(`Task ${task.name} timed out after ${task.timeoutMs} ms`)),
            task.timeoutMs,
          );
    try {
      const args = task.parseArgs(step.args);
      const aborted = new Promise<never>((_, reject) => {
        controller.signal.addEventListener('abort', () => reject(controller.signal.reason as Error), { once: true });
      });
      const outcome = await Promise.race([
        task.run(
          {
            signal: controller.signal,
            attempt: step.attempts,
            pollCount: step.polls,
            idempotencyKey: `${execution.id}:${step.id}`,
            fencingToken: null,
            heartbeat,
            log,
            actor: execution.actor,
            executionId: execution.id,
            stepId: step.id,
            resource: claimed.resource,
            services: this.options.services,
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
      if (!controller.signal.aborted) controller.abort(new Error('step finished'));
    }
  }

  /** One transaction: the step's result, its resource patch and events, and what comes next. */
  private async commit(
    tx: Tx,
    task: TaskDefinition<unknown, S>,
    step: StepRecord,
    execution: ExecutionRecord,
    token: string,
    result: RunResult,
    log: Logger,
  ): Promise<void> {
    if (result.kind === 'error' && result.error instanceof ClaimLostError) throw result.error;
    const context = { executionId: execution.id, actor: execution.actor };
    const fail = async (failure: FailureInfo): Promise<void> => {
      await tx.steps.complete(step.id, token, { status: 'failed', failure });
      log.warn('step failed', { error: failure.message });
      if (!step.ignoreErrors) await tx.executions.recordFailure(execution.id, failure);
      await this.continueWith(tx, execution, continueAfterFailure(execution.plan, step.role, step.position), failure);
    };
    const requeue = async (delayMs: number, kind: 'poll' | 'retry', failure?: FailureInfo): Promise<void> => {
      const notBefore = new Date(Date.now() + delayMs);
      await tx.steps.requeue(step.id, token, {
        notBefore,
        attempt: kind === 'retry',
        poll: kind === 'poll',
        ...(failure ? { failure } : {}),
      });
      const updated = await tx.steps.get(step.id);
      if (updated) addStepMessage(tx, updated, execution.actor, notBefore);
      log.info(kind === 'poll' ? 'step polls again' : 'step retries after a transient error', {
        delayMs,
        ...(failure ? { error: failure.message } : {}),
      });
    };
    await match(result)
      .with({ kind: 'error' }, async ({ error }) => {
        const decision = decideOnError(task, step.attempts, error);
        if (decision.kind === 'retry') return requeue(decision.delayMs, 'retry', describeFailure(error));
        return fail(decision.failure);
      })
      .with({ kind: 'outcome' }, ({ outcome }) =>
        match(outcome)
          .with({ kind: 'poll' }, async (poll) => {
            if (!(await this.applyPatch(tx, step, poll.patch, context, fail))) return;
            const decision = decideOnPoll(task, step.polls + 1, poll.afterMs);
            if (decision.kind === 'repoll') return requeue(decision.delayMs, 'poll');
            return fail(decision.failure);
          })
          .with({ kind: 'done' }, async (finished) => {
            if (!(await this.applyPatch(tx, step, finished.patch, context, fail))) return;
            await tx.steps.complete(step.id, token, {
              status: 'succeeded',
              ...(finished.result === undefined ? {} : { result: finished.result }),
            });
            log.info('step succeeded');
            await this.continueWith(tx, execution, continueAfterSuccess(execution.plan, step.role, step.position));
          })
          .exhaustive(),
      )
      .exhaustive();
  }

  /** Applies a task's resource patch to the row as it is now; an illegal or lost write fails the step. */
  private async applyPatch(
    tx: Tx,
    step: StepRecord,
    patch: ResourcePatch | undefined,
    context: { executionId: string; actor: string | null },
    fail: (failure: FailureInfo) => Promise<void>,
  ): Promise<boolean> {
    if (isEmptyPatch(patch) || !patch || !step.resourceRef) return true;
    const ref = parseResourceRef(step.resourceRef);
    const current = await tx.resources.get(ref.type, ref.id, { forUpdate: true });
    try {
      if (!current) throw new ResourceGoneError(step.resourceRef);
      await tx.resources.applyPatch(current, patch, context);
      return true;
    } catch (error) {
      await fail(describeFailure(error));
      return false;
    }
  }

  private async continueWith(
    tx: Tx,
    execution: ExecutionRecord,
    next: Continuation,
    failure?: FailureInfo,
  ): Promise<void> {
    const catalog = this.options.registry;
    await match(next)
      .with({ kind: 'queue_step' }, ({ position, call }) =>
        queueStep(tx, catalog, execution, { role: 'main', position, call }),
      )
      .with({ kind: 'queue_handler' }, ({ role, call }) =>
        queueStep(tx, catalog, execution, { role, position: 0, call, ...(failure ? { failure } : {}) }),
      )
      .with({ kind: 'finish' }, async ({ status }) => {
        await tx.executions.finish(execution.id, status);
      })
      .exhaustive();
  }
}

type RunResult = { kind: 'outcome'; outcome: TaskOutcome } | { kind: 'error'; error: unknown };

function decodeTaskMessage(data: Uint8Array): TaskMessage | null {
  try {
    const parsed = taskMessageSchema.safeParse(JSON.parse(Buffer.from(data).toString('utf8')));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
