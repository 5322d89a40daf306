import { randomUUID } from 'node:crypto';
import { match } from 'ts-pattern';
import { HEADERS, parseResourceRef, taskMessageSchema, type TaskMessage } from '@jetcel/contracts';
import {
  BUILTIN_TASKS,
  decideOnError,
  decideOnPoll,
  describeFailure,
  isEmptyPatch,
  ResourceGoneError,
  TransientError,
  type ExecutorRegistry,
  type FailureInfo,
  type Logger,
  type RelatedPatch,
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
import { Progress } from './progress.ts';
import { runNestedExecutor } from './nested.ts';
import { addStepMessage } from './step-messages.ts';
import { resourceReader } from './resource-reader.ts';

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
  /** Executors that plans may nest (SPEC B7). */
  executors?: Pick<ExecutorRegistry, 'get'>;
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
type RunResult = { kind: 'outcome'; outcome: TaskOutcome } | { kind: 'error'; error: unknown };

const NO_EXECUTORS: Pick<ExecutorRegistry, 'get'> = { get: () => undefined };

/** Runs one delivered step: claim, run with heartbeats, commit its result and what comes next. */
export class StepRunner<S> {
  readonly #claimTtlMs: number;
  readonly #heartbeatMs: number;
  readonly #progress: Progress;

  constructor(private readonly options: StepRunnerOptions<S>) {
    this.#claimTtlMs = options.claimTtlMs ?? 30_000;
    this.#heartbeatMs = options.heartbeatMs ?? Math.max(100, Math.floor(this.#claimTtlMs / 3));
    this.#progress = new Progress({
      catalog: options.registry,
      executors: options.executors ?? NO_EXECUTORS,
      logger: options.logger,
    });
  }

  get progress(): Progress {
    return this.#progress;
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
      const delayMs = this.options.unknownTaskDelayMs ?? 30_000;
      log.warn('task unknown to this worker; handing the message back', { delayMs });
      return { kind: 'nak', delayMs };
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
    const { step } = claim.value;
    const stepLog = log.child({ resource: step.resourceRef, attempt: step.attempts });
    stepLog.info('step started', { takeover: claim.takeover });
    try {
      if (step.task === BUILTIN_TASKS.runExecutor) {
        await this.options.db.transaction((tx) =>
          runNestedExecutor(tx, this.#progress, this.options.executors ?? NO_EXECUTORS, step, token, stepLog),
        );
      } else {
        const outcome = await this.run(task, claim.value, token, delivery, stepLog);
        await this.options.db.transaction((tx) => this.commit(tx, task, step, token, outcome, stepLog));
      }
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
      // A failure handler may find its resource gone (a cancelled create deleted it): that is not an error.
      if (!resource && step.role !== 'failure') preparationError = new ResourceGoneError(step.resourceRef);
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
    const value: Claimed = { step, execution, resource, preparationError };
    return { kind: 'claimed' as const, takeover: result.takeover, value };
  }

  /** Runs the task; heartbeats extend the claim, tell the broker we live and notice a cancel. */
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
    const cancel = new AbortController();
    if (execution.status === 'cancel_requested') cancel.abort(new Error('execution cancelled'));
    const heartbeat = async (): Promise<void> => {
      delivery.working();
      const state = await this.options.db.transaction((tx) => tx.steps.extend(step.id, token, this.#claimTtlMs), {
        relaxedDurability: true,
      });
      if (!state.held) controller.abort(new ClaimLostError(step.id));
      if (state.executionStatus === 'cancel_requested' && !cancel.signal.aborted)
        cancel.abort(new Error('execution cancelled'));
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
            cancelSignal: cancel.signal,
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
            resources: resourceReader(this.options.db),
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

  /** One transaction: the step's result, its resource patches and events, and what comes next. */
  private async commit(
    tx: Tx,
    task: TaskDefinition<unknown, S>,
    step: StepRecord,
    token: string,
    result: RunResult,
    log: Logger,
  ): Promise<void> {
    if (result.kind === 'error' && result.error instanceof ClaimLostError) throw result.error;
    const execution = await tx.executions.lock(step.executionId);
    if (!execution) throw new ClaimLostError(step.id);
    const cancelling = execution.status === 'cancel_requested';
    const context = { executionId: execution.id, actor: execution.actor };
    const fail = async (failure: FailureInfo): Promise<void> => {
      await tx.steps.complete(step.id, token, { status: 'failed', failure });
      log.warn('step failed', { error: failure.message });
      await this.#progress.stepFailed(tx, execution, step, failure);
    };
    const requeue = async (delayMs: number, kind: 'poll' | 'retry', failure?: FailureInfo): Promise<void> => {
      if (cancelling) {
        // No more polls or retries once cancelled: the step ends here and the cancel settles.
        await tx.steps.complete(step.id, token, { status: 'cancelled' });
        return this.#progress.stepSucceeded(tx, execution, step);
      }
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
            const patched = await this.applyPatches(tx, step, poll.patch, [], context);
            if (patched) return fail(patched);
            const decision = decideOnPoll(task, step.polls + 1, poll.afterMs);
            if (decision.kind === 'repoll') return requeue(decision.delayMs, 'poll');
            return fail(decision.failure);
          })
          .with({ kind: 'done' }, async (finished) => {
            const patched = await this.applyPatches(tx, step, finished.patch, finished.also ?? [], context);
            if (patched) return fail(patched);
            await tx.steps.complete(step.id, token, {
              status: 'succeeded',
              ...(finished.result === undefined ? {} : { result: finished.result }),
            });
            log.info('step succeeded');
            await this.#progress.stepSucceeded(tx, execution, step);
          })
          .exhaustive(),
      )
      .exhaustive();
  }

  /** Applies the task's patches to the rows as they are now; returns the failure if one cannot apply. */
  private async applyPatches(
    tx: Tx,
    step: StepRecord,
    patch: ResourcePatch | undefined,
    also: RelatedPatch[],
    context: { executionId: string; actor: string | null },
  ): Promise<FailureInfo | null> {
    try {
      if (patch && !isEmptyPatch(patch) && step.resourceRef) {
        const ref = parseResourceRef(step.resourceRef);
        const current = await tx.resources.get(ref.type, ref.id, { forUpdate: true });
        // A failure handler whose resource is already gone has nothing left to write.
        if (current) await tx.resources.applyPatch(current, patch, context);
        else if (step.role !== 'failure') throw new ResourceGoneError(step.resourceRef);
      }
      for (const related of also) {
        const ref = parseResourceRef(related.ref);
        const current = await tx.resources.get(ref.type, ref.id, { forUpdate: true });
        if (!current) continue;
        await tx.resources.applyPatch({ ...current, version: related.version }, related.patch, context);
      }
      return null;
    } catch (error) {
      return describeFailure(error);
    }
  }
}

function decodeTaskMessage(data: Uint8Array): TaskMessage | null {
  try {
    const parsed = taskMessageSchema.safeParse(JSON.parse(Buffer.from(data).toString('utf8')));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
