import { hostname } from 'node:os';
import { laneStream, TASK_LANES, type QueueName } from '@jetcel/contracts';
import {
  defineTopology,
  Heartbeats,
  Leases,
  startConsumer,
  verifyTopology,
  type Bus,
  type Delivery,
  type Disposition,
} from '@jetcel/bus';
import { ThrottleGate } from '../throttle/slots.ts';
import {
  checkPlannedTasks,
  declaredThrottleLimits,
  type ExecutorRegistry,
  type Logger,
  type TaskRegistry,
} from '@jetcel/core';
import type { Db } from '@jetcel/db';
import { inSpan, type ServiceMetrics } from '@jetcel/telemetry';
import type { ServiceConfig } from './config.ts';
import { startRelay } from '../outbox/start-relay.ts';
import { StepRunner } from '../step/runner.ts';
import { BackgroundRunner } from '../background/runner.ts';
import { decodeTaskDelivery } from '../delivery/decode.ts';

export interface WorkerOptions<S> {
  bus: Bus;
  db: Db;
  queue: QueueName;
  /** Slots for the queue's short lane. */
  concurrency: number;
  /** Slots for its long lane, beside them; default `config.longLaneSlots`, else half of `concurrency` (at least 1). */
  longLaneSlots?: number;
  registry: TaskRegistry<S>;
  /** Checked at start-up: every task they can plan must be in `registry` (UnknownPlannedTaskError). */
  executors?: Pick<ExecutorRegistry, 'get' | 'all'>;
  services: S;
  logger: Logger;
  config: ServiceConfig;
  worker?: string;
  /** Task starts, outcomes, durations, queue lag and throttle waits. */
  metrics?: ServiceMetrics;
}

export interface RunningWorker {
  stop(deadlineMs?: number): Promise<void>;
}

/**
 * A worker for one queue: checks the topology, then consumes only its own queue's two lanes, each
 * in slots of its own, so a step of a long plan never takes the slot a short execution needs.
 */
export async function startWorker<S>(options: WorkerOptions<S>): Promise<RunningWorker> {
  const { bus, db, queue, logger, config } = options;
  if (options.executors) checkPlannedTasks(options.registry, options.executors.all());
  const streams = TASK_LANES.map((lane) => laneStream(queue, lane));
  await verifyTopology(bus, defineTopology(config.topology), { streams });
  const relay = startRelay({
    bus,
    db,
    logger,
    sweepMs: config.sweepMs,
    claimGraceMs: config.claimGraceMs,
    staleQueuedMs: config.staleQueuedMs,
  });
  const gate = new ThrottleGate({
    db,
    leases: await Leases.open(bus),
    // Limits declared in code are the kinds' defaults; a jetcel_throttle_limit row still wins.
    config: { ...config.throttle, declaredLimits: declaredThrottleLimits(throttleDeclarations(options)) },
    logger: logger.child({ component: 'throttle' }),
  });
  // One heartbeat owner for the worker: every in-flight message and every running task's claim.
  const heartbeats = new Heartbeats();
  const leaseReconciler = startLeaseReconciler(gate, logger, Math.max(1000, config.sweepMs * 5));
  const runner = new StepRunner({
    db,
    registry: options.registry,
    ...(options.executors ? { executors: options.executors } : {}),
    services: options.services,
    logger,
    worker: options.worker ?? `${hostname()}:${process.pid}:${queue}`,
    claimTtlMs: config.claimTtlMs,
    heartbeats,
    throttle: gate,
    crashBudget: config.crashBudget,
    unknownTaskGraceMs: config.unknownTaskGraceMs,
    queue,
    chainLimit: config.stepChainLimit,
    longPlanSteps: config.longPlanSteps,
    ...(options.metrics ? { metrics: options.metrics.runtime } : {}),
  });
  const background = new BackgroundRunner({
    db,
    registry: options.registry,
    ...(options.executors ? { executors: options.executors } : {}),
    services: options.services,
    logger,
    claimTtlMs: config.claimTtlMs,
    heartbeats,
    unknownTaskGraceMs: config.unknownTaskGraceMs,
    ...(options.metrics ? { metrics: options.metrics.runtime } : {}),
    throttle: { defaultLimitFor: (kind) => gate.defaultLimitFor(kind), leaseTtlMs: config.throttle.leaseTtlMs },
  });
  // One decode decides who runs a message: background runs and standalone tasks, or steps.
  const dispatch = (delivery: Delivery): Promise<Disposition> => {
    const decoded = decodeTaskDelivery(delivery.data);
    if (decoded.kind !== 'background') return runner.deliver(decoded, delivery);
    const { message } = decoded;
    return inSpan(
      `background ${message.task}`,
      { kind: 'consumer', parentHeaders: delivery.headers, attributes: { 'jetcel.task': message.task } },
      () => background.handle(message, delivery),
    );
  };
  const slots = {
    short: options.concurrency,
    long: options.longLaneSlots ?? config.longLaneSlots ?? Math.max(1, Math.floor(options.concurrency / 2)),
  };
  const consumers = await Promise.all(
    TASK_LANES.map((lane) =>
      startConsumer(bus, {
        queue,
        lane,
        concurrency: slots[lane],
        heartbeats,
        handler: dispatch,
        onError: (error) => logger.error('task handler failed', { error, lane }),
      }),
    ),
  );
  logger.info('worker ready', { queue, concurrency: options.concurrency, longLaneSlots: slots.long });
  return {
    async stop(deadlineMs = config.shutdownDeadlineMs) {
      // Stop pulling and let running tasks finish (their next steps are published, not run here);
      // shortly before the deadline, hand back the rest.
      runner.draining();
      const handBack = setTimeout(() => runner.shutdown(), Math.max(0, deadlineMs - 1500));
      await Promise.all(consumers.map((consumer) => consumer.stop({ deadlineMs })));
      await runner.idle();
      clearTimeout(handBack);
      clearInterval(leaseReconciler);
      await relay.stop();
    },
  };
}

/** Frees the leases of executions that ended without releasing them (a crash between commit and release). */
function startLeaseReconciler(gate: ThrottleGate, logger: Logger, everyMs: number): NodeJS.Timeout {
  const timer = setInterval(() => {
    gate
      .reconcile()
      .then((freed) => {
        if (freed > 0) logger.warn('freed throttle leases of ended executions', { freed });
      })
      .catch((error: unknown) => logger.warn('lease reconciler failed', { error: String(error) }));
  }, everyMs);
  timer.unref();
  return timer;
}

/** What declares a throttle kind's limit in code: the executors and the background tasks. */
function throttleDeclarations<S>(
  options: Pick<WorkerOptions<S>, 'executors' | 'registry'>,
): Array<{ throttle?: { kind: string; limit?: number } | undefined }> {
  const tasks = options.registry.names().map((name) => options.registry.get(name));
  return [...(options.executors?.all() ?? []), ...tasks.filter((task) => task !== undefined)];
}
