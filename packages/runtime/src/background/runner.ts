import { randomUUID } from 'node:crypto';
import { TASK_MESSAGE_VERSION, HEADERS, parseResourceRef, type BackgroundMessage } from '@jetcel/contracts';
import {
  decideOnError,
  describeFailure,
  TransientError,
  type ExecutorRegistry,
  type Logger,
  type ResourceSnapshot,
  type RuntimeMetrics,
  type StepOutcome,
  type TaskDefinition,
  type TaskRegistry,
} from '@jetcel/core';
import { Heartbeats, type Delivery, type Disposition } from '@jetcel/bus';
import { ConcurrentUpdateError, RunClaimLostError, type BackgroundRunRecord, type Db, type Tx } from '@jetcel/db';
import { commitBackgroundOutcome, writesNothing, type BackgroundCommitSummary } from './commit.ts';
import { addBackgroundMessage } from './messages.ts';
import { DeliveryGate } from '../delivery/gate.ts';
import { Progress } from '../execution/progress.ts';
import { resourceReader } from '../run/resource-reader.ts';
import { runTask, type RunResult } from '../run/run-task.ts';
import { startTaskTimer } from '../run/task-timer.ts';

export interface BackgroundRunnerOptions<S> {
  db: Db;
  registry: TaskRegistry<S>;
  /** Executors a cancelled execution's failure handling may need (nested executions). */
  executors?: Pick<ExecutorRegistry, 'get'>;
  services: S;
  logger: Logger;
  /** Claim lifetime; heartbeats extend it. @defaultValue 30000 */
  claimTtlMs?: number;
  /** Heartbeat period. @defaultValue claimTtlMs / 3 */
  heartbeatMs?: number;
  /** The worker's heartbeat owner (one timer for every in-flight task); default: the runner's own. */
  heartbeats?: Heartbeats;
  /** How long to hand back a message naming a task this worker does not know. @defaultValue 30000 */
  unknownTaskDelayMs?: number;
  /** How long an unknown background task or message version waits for a newer worker. @defaultValue 10 min */
  unknownTaskGraceMs?: number;
  /** Where run starts, outcomes and durations are reported. */
  metrics?: RuntimeMetrics;
}

/** The run's resource: `gone` when the message names one that no longer exists. */
type Loaded = { kind: 'loaded'; resource: ResourceSnapshot | null } | { kind: 'gone' };

/**
 * Runs delivered background tasks and standalone tasks. A run (runId set) is claimed in PostgreSQL
 * like a step, runs with heartbeats that extend the claim, then commits its outcome and deletes
 * its row in one transaction (which frees its equality). A standalone task (runId null) has no
 * row: it just runs and commits its outcome, at least once.
 */
export class BackgroundRunner<S> {
  readonly #claimTtlMs: number;
  readonly #heartbeatMs: number;
  readonly #progress: Progress;
  readonly #gate: DeliveryGate;
  readonly #heartbeats: Heartbeats;

  constructor(private readonly options: BackgroundRunnerOptions<S>) {
    this.#gate = new DeliveryGate(options);
    this.#heartbeats = options.heartbeats ?? new Heartbeats();
    this.#claimTtlMs = options.claimTtlMs ?? 30_000;
    this.#heartbeatMs = options.heartbeatMs ?? Math.max(100, Math.floor(this.#claimTtlMs / 3));
    this.#progress = new Progress({
      catalog: options.registry,
      executors: options.executors ?? { get: () => undefined },
      logger: options.logger,
    });
  }

  async handle(message: BackgroundMessage, delivery: Delivery): Promise<Disposition> {
    const actor = delivery.headers[HEADERS.actor] ?? null;
    const log = this.options.logger.child({
      task: message.task,
      runId: message.runId,
      resource: message.resource,
      actor,
    });
    const gate = this.#gate;
    const task = message.v > TASK_MESSAGE_VERSION ? undefined : this.options.registry.get(message.task);
    if (!task)
      return gate.unknownTask(
        delivery,
        log,
        message.v > TASK_MESSAGE_VERSION ? `message version ${message.v}` : `background task ${message.task}`,
      );
    if (task.queue !== 'background')
      // Only background tasks may run outside an execution: a step task here is forged or misrouted.
      return gate.letter(
        delivery,
        log,
        'UNATTRIBUTABLE',
        `task ${task.name} is not a background task and names no step`,
      );
    if (message.resource !== null && !isReadableRef(message.resource))
      return gate.letter(
        delivery,
        log,
        'UNDECODABLE',
        `resource ${JSON.stringify(message.resource)} is not a "<type>:<uuid>" reference`,
      );
    if (message.runId === null) return this.standalone(task, message, delivery, actor, log);
    return this.run(task, message.runId, delivery, actor, log);
  }

  /** A standalone task: no claim, no equality; a failure is logged, not retried. */
  private async standalone(
    task: TaskDefinition<unknown, S>,
    message: BackgroundMessage,
    delivery: Delivery,
    actor: string | null,
    parentLog: Logger,
  ): Promise<Disposition> {
    const msgId = delivery.headers[HEADERS.msgId] ?? randomUUID();
    const log = parentLog.child({ msgId, delivery: delivery.deliveryCount });
    const loaded = await this.load(message.resource);
    if (loaded.kind === 'gone') {
      log.info('standalone task skipped: its resource no longer exists');
      return { kind: 'ack' };
    }
    const result = await runTask(
      task,
      {
        ...this.common(loaded.resource, actor, log),
        attempt: delivery.deliveryCount,
        idempotencyKey: `standalone:${msgId}`,
      },
      {
        args: message.args,
        controller: new AbortController(),
        heartbeat: async () => delivery.working(),
        ...this.harness(log),
      },
    );
    if (result.kind === 'error') {
      log.error('standalone task failed; it is not retried', { error: describeFailure(result.error).message });
      return { kind: 'ack' };
    }
    if (writesNothing(result.outcome)) {
      // Nothing to write: no transaction at all (the task path of a no-op or a pure side effect).
      log.info('standalone task finished', { patched: 0, enqueued: 0, skipped: 0, cancelled: 0 });
      return { kind: 'ack' };
    }
    try {
      const summary = await this.options.db.transaction((tx) =>
        commitBackgroundOutcome(tx, this.deps(), { outcome: result.outcome, resource: loaded.resource, actor, log }),
      );
      log.info('standalone task finished', { ...summary });
    } catch (error) {
      log.error('standalone task outcome not written', { error: describeFailure(error).message });
    }
    return { kind: 'ack' };
  }

  /** A background run: claim its row, run, then one commit (outcome + row deleted) or a retry. */
  private async run(
    task: TaskDefinition<unknown, S>,
    runId: string,
    delivery: Delivery,
    actor: string | null,
    log: Logger,
  ): Promise<Disposition> {
    const token = randomUUID();
    const claim = await this.options.db.transaction(
      (tx) => tx.backgroundRuns.claim(runId, { token, ttlMs: this.#claimTtlMs }),
      { relaxedDurability: true },
    );
    if (claim.kind !== 'claimed') {
      log.debug('background delivery skipped', { reason: claim.kind });
      return { kind: 'ack' };
    }
    const { run } = claim;
    const runLog = log.child({ attempt: run.attempts });
    try {
      const loaded = await this.load(run.resourceRef);
      if (loaded.kind === 'gone') {
        await this.options.db.transaction((tx) => tx.backgroundRuns.finish(run.id, token));
        runLog.info('background run skipped: its resource no longer exists');
        return { kind: 'ack' };
      }
      runLog.info('background run started', { takeover: claim.takeover });
      const finished = startTaskTimer(this.options.metrics, {
        task: task.name,
        queue: task.queue,
        publishedAt: delivery.publishedAt,
      });
      const controller = new AbortController();
      const result = await runTask(
        task,
        {
          ...this.common(loaded.resource, actor, runLog),
          attempt: run.attempts,
          idempotencyKey: `background:${run.id}`,
        },
        {
          args: run.args,
          controller,
          heartbeat: async () => {
            delivery.working();
            const held = await this.options.db.transaction(
              (tx) => tx.backgroundRuns.extend(run.id, token, this.#claimTtlMs),
              { relaxedDurability: true },
            );
            if (!held) controller.abort(new RunClaimLostError(run.id));
          },
          ...this.harness(runLog),
        },
      );
      finished(await this.settle(task, run, token, result, loaded.resource, actor, runLog));
    } catch (error) {
      if (!(error instanceof RunClaimLostError)) throw error;
      runLog.warn('claim lost before commit; result discarded');
    }
    return { kind: 'ack' };
  }

  /**
   * One transaction for the outcome and the row's deletion. If the outcome cannot be written (a
   * resource changed meanwhile: a retry re-reads it; anything else: a failure), a second
   * transaction settles the run as failed.
   */
  private async settle(
    task: TaskDefinition<unknown, S>,
    run: BackgroundRunRecord,
    token: string,
    result: RunResult,
    resource: ResourceSnapshot | null,
    actor: string | null,
    log: Logger,
  ): Promise<StepOutcome> {
    if (result.kind === 'error') {
      if (result.error instanceof RunClaimLostError) throw result.error;
      return this.options.db.transaction((tx) => this.settleError(tx, task, run, token, result.error, log));
    }
    let summary: BackgroundCommitSummary;
    try {
      summary = await this.options.db.transaction(async (tx) => {
        const written = await commitBackgroundOutcome(tx, this.deps(), {
          outcome: result.outcome,
          resource,
          actor,
          log,
        });
        await tx.backgroundRuns.finish(run.id, token);
        return written;
      });
    } catch (error) {
      if (error instanceof RunClaimLostError) throw error;
      const cause = isConflict(error)
        ? new TransientError(`A resource changed while ${task.name} ran: ${describeFailure(error).message}`, {
            cause: error,
          })
        : error;
      return this.options.db.transaction((tx) => this.settleError(tx, task, run, token, cause, log));
    }
    log.info('background run finished', {
      ...summary,
      ...(result.outcome.result === undefined ? {} : { result: result.outcome.result }),
    });
    return 'succeeded';
  }

  /** Retryable and attempts left: queued again after a backoff. Otherwise the run ends (row deleted). */
  private async settleError(
    tx: Tx,
    task: TaskDefinition<unknown, S>,
    run: BackgroundRunRecord,
    token: string,
    error: unknown,
    log: Logger,
  ): Promise<StepOutcome> {
    const decision = decideOnError(task, run.attempts, error);
    if (decision.kind === 'retry') {
      const notBefore = new Date(Date.now() + decision.delayMs);
      const failure = describeFailure(error);
      const requeued = await tx.backgroundRuns.requeue(run.id, token, { notBefore });
      addBackgroundMessage(tx, requeued, notBefore);
      log.warn('background run retries after a transient error', { delayMs: decision.delayMs, error: failure.message });
      return 'retried';
    }
    await tx.backgroundRuns.finish(run.id, token);
    log.error('background run failed', { error: decision.failure.message, errorName: decision.failure.errorName });
    return 'failed';
  }

  private async load(ref: string | null): Promise<Loaded> {
    if (ref === null) return { kind: 'loaded', resource: null };
    const { type, id } = parseResourceRef(ref);
    const resource = await this.options.db.read((tx) => tx.resources.get(type, id));
    return resource ? { kind: 'loaded', resource } : { kind: 'gone' };
  }

  /** The task context of a background task: no execution, nothing cancels it (only its signal stops it). */
  private common(resource: ResourceSnapshot | null, actor: string | null, log: Logger) {
    return {
      actor,
      resource,
      resources: resourceReader(this.options.db),
      services: this.options.services,
      log,
      cancelSignal: NEVER_CANCELLED,
      pollCount: 0,
      fencingToken: null,
      fencingSlot: null,
      executionId: null,
      stepId: null,
    };
  }

  private harness(log: Logger) {
    return {
      heartbeatMs: this.#heartbeatMs,
      heartbeats: this.#heartbeats,
      onHeartbeatError: (error: unknown) => log.warn('heartbeat failed', { error: String(error) }),
    };
  }

  private deps() {
    return { catalog: this.options.registry, progress: this.#progress };
  }
}

// Background tasks belong to no execution: nothing can cancel them, only stop them (signal).
const NEVER_CANCELLED = new AbortController().signal;

/** A compare-and-set that lost, or a lock conflict PostgreSQL resolved by aborting us. */
function isConflict(error: unknown): boolean {
  if (error instanceof ConcurrentUpdateError) return true;
  const code = (error as { code?: unknown } | null)?.code;
  return code === '40P01' || code === '40001';
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A resource reference whose id can be looked up (every jetcel resource id is a uuid). */
function isReadableRef(ref: string): boolean {
  try {
    return UUID.test(parseResourceRef(ref).id);
  } catch {
    return false;
  }
}
