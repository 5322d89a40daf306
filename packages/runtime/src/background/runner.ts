import { randomUUID } from 'node:crypto';
import { TASK_MESSAGE_VERSION, HEADERS, parseResourceRef, type BackgroundMessage } from '@jetcel/contracts';
import type { ExecutorRegistry, Logger, RuntimeMetrics, TaskDefinition, TaskRegistry } from '@jetcel/core';
import { Heartbeats, type Delivery, type Disposition } from '@jetcel/bus';
import { RunClaimLostError, type BackgroundSlot, type Db } from '@jetcel/db';
import { backgroundContext, loadResource, type BackgroundEnv } from './context.ts';
import { settleBackgroundRun } from './settle.ts';
import { BackgroundThrottle, type BackgroundThrottleConfig } from './throttle.ts';
import { runStandalone } from './standalone-run.ts';
import { DeliveryGate } from '../delivery/gate.ts';
import { Progress } from '../execution/progress.ts';
import { resourceReader } from '../run/resource-reader.ts';
import { RunControl } from '../run/run-control.ts';
import { runTask } from '../run/run-task.ts';
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
  /** The worker's heartbeat owner, for a run whose delivery has no heartbeat of its own; default: the runner's own. */
  heartbeats?: Heartbeats;
  /** How long to hand back a message naming a task this worker does not know. @defaultValue 30000 */
  unknownTaskDelayMs?: number;
  /** How long an unknown background task or message version waits for a newer worker. @defaultValue 10 min */
  unknownTaskGraceMs?: number;
  /** Where run starts, outcomes and durations are reported. */
  metrics?: RuntimeMetrics;
  /** Limits and timers of throttled background tasks. @defaultValue 4 slots per scope */
  throttle?: BackgroundThrottleConfig;
}

/**
 * Runs delivered background tasks and standalone tasks. A run (runId set) is claimed in PostgreSQL
 * like a step, runs with a heartbeat that extends the claim, then commits its outcome and deletes
 * its row in one transaction (which frees its equality). A standalone task (runId null) has no
 * row: it just runs and commits its outcome, at least once (`standalone-run.ts`).
 */
export class BackgroundRunner<S> {
  readonly #claimTtlMs: number;
  readonly #heartbeatMs: number;
  readonly #gate: DeliveryGate;
  readonly #heartbeats: Heartbeats;
  readonly #env: BackgroundEnv<S>;
  readonly #throttle: BackgroundThrottle;

  constructor(private readonly options: BackgroundRunnerOptions<S>) {
    this.#gate = new DeliveryGate(options);
    this.#heartbeats = options.heartbeats ?? new Heartbeats();
    this.#claimTtlMs = options.claimTtlMs ?? 30_000;
    this.#heartbeatMs = options.heartbeatMs ?? Math.max(100, Math.floor(this.#claimTtlMs / 3));
    this.#throttle = new BackgroundThrottle(options.db, options.throttle ?? { defaultLimitFor: () => 4 });
    const progress = new Progress({
      catalog: options.registry,
      executors: options.executors ?? { get: () => undefined },
      logger: options.logger,
    });
    this.#env = {
      db: options.db,
      registry: options.registry,
      services: options.services,
      resources: resourceReader(options.db),
      progress,
      deps: { catalog: options.registry, progress },
    };
  }

  async handle(message: BackgroundMessage, delivery: Delivery): Promise<Disposition> {
    const actor = delivery.headers[HEADERS.actor] ?? null;
    const fields = { task: message.task, runId: message.runId, resource: message.resource, actor };
    const task = message.v > TASK_MESSAGE_VERSION ? undefined : this.options.registry.get(message.task);
    const refusal = this.refusal(message, task);
    if (refusal !== null || !task) return this.refuse(refusal, message, delivery, this.options.logger.child(fields));
    if (message.runId === null) {
      const msgId = delivery.headers[HEADERS.msgId] ?? randomUUID();
      // One child logger per task: the standalone path's fields join the message's.
      const log = this.options.logger.child({ ...fields, msgId, delivery: delivery.deliveryCount });
      return runStandalone(this.#env, task, message, delivery, { msgId, actor, log });
    }
    return this.run(task, message.runId, delivery, actor, this.options.logger.child(fields));
  }

  /** Why this message cannot run here, or null when it can. */
  private refusal(
    message: BackgroundMessage,
    task: TaskDefinition<unknown, S> | undefined,
  ): 'unknown' | 'not_background' | 'bad_resource' | null {
    if (!task) return 'unknown';
    // Only background tasks may run outside an execution: a step task here is forged or misrouted.
    if (task.queue !== 'background') return 'not_background';
    if (message.resource !== null && !isReadableRef(message.resource)) return 'bad_resource';
    return null;
  }

  private refuse(
    refusal: 'unknown' | 'not_background' | 'bad_resource' | null,
    message: BackgroundMessage,
    delivery: Delivery,
    log: Logger,
  ): Promise<Disposition> {
    const gate = this.#gate;
    switch (refusal) {
      case 'not_background':
        return gate.letter(
          delivery,
          log,
          'UNATTRIBUTABLE',
          `task ${message.task} is not a background task and names no step`,
        );
      case 'bad_resource':
        return gate.letter(
          delivery,
          log,
          'UNDECODABLE',
          `resource ${JSON.stringify(message.resource)} is not a "<type>:<uuid>" reference`,
        );
      case 'unknown':
      case null:
        return gate.unknownTask(
          delivery,
          log,
          message.v > TASK_MESSAGE_VERSION ? `message version ${message.v}` : `background task ${message.task}`,
        );
    }
  }

  /** A background run: claim its row, run, then one commit (outcome + row deleted) or a retry. */
  private async run(
    task: TaskDefinition<unknown, S>,
    runId: string,
    delivery: Delivery,
    actor: string | null,
    log: Logger,
  ): Promise<Disposition> {
    const { db } = this.options;
    const token = randomUUID();
    const claim = await db.leanTransaction((tx) => tx.backgroundRuns.claim(runId, { token, ttlMs: this.#claimTtlMs }), {
      relaxedDurability: true,
    });
    if (claim.kind !== 'claimed') {
      log.debug('background delivery skipped', { reason: claim.kind });
      return { kind: 'ack' };
    }
    const { run } = claim;
    const runLog = log.child({ attempt: run.attempts });
    // A throttled task's slot, held from its admission until its outcome has settled.
    let slot: BackgroundSlot | null = null;
    try {
      const loaded = await loadResource(db, run.resourceRef);
      if (loaded.kind === 'gone') {
        await db.leanTransaction((tx) => tx.backgroundRuns.finish(run.id, token));
        runLog.info('background run skipped: its resource no longer exists');
        return { kind: 'ack' };
      }
      const admission = await this.#throttle.admit(task, run, token, loaded.resource, runLog);
      if (admission.kind === 'parked') return { kind: 'ack' };
      slot = admission.kind === 'slot' ? admission.slot : null;
      runLog.info('background run started', { takeover: claim.takeover });
      const finished = startTaskTimer(this.options.metrics, {
        task: task.name,
        queue: task.queue,
        publishedAt: delivery.publishedAt,
      });
      const controller = new RunControl();
      const result = await runTask(
        task,
        {
          ...backgroundContext(this.#env, loaded.resource, actor, runLog),
          attempt: run.attempts,
          idempotencyKey: `background:${run.id}`,
        },
        {
          args: run.args,
          controller,
          heartbeat: async () => {
            delivery.working();
            const held = await db.leanTransaction(
              async (tx) =>
                (await tx.backgroundRuns.extend(run.id, token, this.#claimTtlMs)) &&
                (slot === null || (await tx.backgroundSlots.renew(slot))),
              { relaxedDurability: true },
            );
            if (!held) controller.abort(new RunClaimLostError(run.id));
          },
          // One beat per run: the claim's extension rides on its message's heartbeat.
          heartbeats: delivery.heartbeat ?? this.#heartbeats,
          heartbeatMs: this.#heartbeatMs,
          onHeartbeatError: (error: unknown) => runLog.warn('heartbeat failed', { error: String(error) }),
        },
      );
      const claimed = { run, token, resource: loaded.resource, actor, log: runLog };
      finished(await settleBackgroundRun(this.#env, task, claimed, result));
    } catch (error) {
      if (!(error instanceof RunClaimLostError)) throw error;
      runLog.warn('claim lost before commit; result discarded');
    } finally {
      // Not given back (the database is away): it is free once its lease expires.
      if (slot)
        await this.#throttle
          .release(slot)
          .catch((error: unknown) => runLog.warn('throttle slot release failed', { error: String(error) }));
    }
    return { kind: 'ack' };
  }
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
