import { hostname } from 'node:os';
import { match } from 'ts-pattern';
import { taskStream, taskSubject, type QueueName } from '@jetcel/contracts';
import { defineTopology, Leases, startConsumer, verifyTopology, type Bus, type Disposition } from '@jetcel/bus';
import { ThrottleGate } from './throttle.ts';
import { writeDeadLetter } from './dead-letters.ts';
import type { ExecutorRegistry, Logger, TaskRegistry } from '@jetcel/core';
import type { Db } from '@jetcel/db';
import { inSpan, type ServiceMetrics } from '@jetcel/telemetry';
import type { ServiceConfig } from './config.ts';
import { startRelay } from './outbox/start-relay.ts';
import { StepRunner, type Delivery, type DeliveryVerdict } from './step-runner.ts';
import { BackgroundRunner } from './background-runner.ts';
import { classifyTaskDelivery } from './task-delivery.ts';

export interface WorkerOptions<S> {
  bus: Bus;
  db: Db;
  queue: QueueName;
  concurrency: number;
  registry: TaskRegistry<S>;
  executors?: Pick<ExecutorRegistry, 'get'>;
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

const toDisposition = (verdict: DeliveryVerdict): Disposition =>
  match(verdict)
    .with({ kind: 'ack' }, (): Disposition => ({ kind: 'ack' }))
    .with({ kind: 'nak' }, ({ delayMs }): Disposition => ({ kind: 'nak', delayMs }))
    .with({ kind: 'term' }, (): Disposition => ({ kind: 'term' }))
    .exhaustive();

/** A worker for one queue: checks the topology, then consumes only its own stream. */
export async function startWorker<S>(options: WorkerOptions<S>): Promise<RunningWorker> {
  const { bus, db, queue, logger, config } = options;
  await verifyTopology(bus, defineTopology(config.topology), { streams: [taskStream(queue)] });
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
    config: config.throttle,
    logger: logger.child({ component: 'throttle' }),
  });
  const leaseReconciler = startLeaseReconciler(gate, logger, Math.max(1000, config.sweepMs * 5));
  const runner = new StepRunner({
    db,
    registry: options.registry,
    ...(options.executors ? { executors: options.executors } : {}),
    services: options.services,
    logger,
    worker: options.worker ?? `${hostname()}:${process.pid}:${queue}`,
    claimTtlMs: config.claimTtlMs,
    throttle: gate,
    crashBudget: config.crashBudget,
    unknownTaskGraceMs: config.unknownTaskGraceMs,
    ...(options.metrics ? { metrics: options.metrics.runtime } : {}),
  });
  const background = new BackgroundRunner({
    db,
    registry: options.registry,
    ...(options.executors ? { executors: options.executors } : {}),
    services: options.services,
    logger,
    claimTtlMs: config.claimTtlMs,
    unknownTaskGraceMs: config.unknownTaskGraceMs,
    ...(options.metrics ? { metrics: options.metrics.runtime } : {}),
  });
  // One decode decides who runs a message: background runs and standalone tasks, or steps.
  const dispatch = (delivery: Delivery): Promise<DeliveryVerdict> =>
    match(classifyTaskDelivery(delivery.data))
      .with({ kind: 'background' }, ({ message }) =>
        inSpan(
          `background ${message.task}`,
          { kind: 'consumer', parentHeaders: delivery.headers, attributes: { 'jetcel.task': message.task } },
          () => background.handle(message, delivery),
        ),
      )
      .with({ kind: 'step' }, () => runner.handle(delivery))
      .with({ kind: 'malformed_background' }, async ({ reason }): Promise<DeliveryVerdict> => {
        await writeDeadLetter(db, logger, {
          reason: 'UNDECODABLE',
          detail: `malformed background task message: ${reason}`,
          subject: delivery.subject ?? taskSubject(queue),
          data: delivery.data,
          headers: delivery.headers,
          deliveryCount: delivery.deliveryCount,
        });
        return { kind: 'term' };
      })
      .exhaustive();
  const consumer = await startConsumer(bus, {
    queue,
    concurrency: options.concurrency,
    handler: async (delivery) => toDisposition(await dispatch(delivery)),
    onError: (error) => logger.error('task handler failed', { error }),
  });
  logger.info('worker ready', { queue, concurrency: options.concurrency });
  return {
    async stop(deadlineMs = config.shutdownDeadlineMs) {
      // Stop pulling and let running tasks finish; shortly before the deadline, hand back the rest.
      const handBack = setTimeout(() => runner.shutdown(), Math.max(0, deadlineMs - 1500));
      await consumer.stop({ deadlineMs });
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
