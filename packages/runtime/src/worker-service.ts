import { hostname } from 'node:os';
import { match } from 'ts-pattern';
import { taskStream, type QueueName } from '@jetcel/contracts';
import { defineTopology, startConsumer, verifyTopology, type Bus, type Disposition } from '@jetcel/bus';
import type { ExecutorRegistry, Logger, TaskRegistry } from '@jetcel/core';
import type { Db } from '@jetcel/db';
import type { ServiceConfig } from './config.ts';
import { startRelay } from './relay.ts';
import { StepRunner, type DeliveryVerdict } from './step-runner.ts';

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
  const relay = startRelay({ bus, db, logger, sweepMs: config.sweepMs, claimGraceMs: config.claimGraceMs });
  const runner = new StepRunner({
    db,
    registry: options.registry,
    ...(options.executors ? { executors: options.executors } : {}),
    services: options.services,
    logger,
    worker: options.worker ?? `${hostname()}:${process.pid}:${queue}`,
    claimTtlMs: config.claimTtlMs,
  });
  const consumer = await startConsumer(bus, {
    queue,
    concurrency: options.concurrency,
    handler: async (delivery) => toDisposition(await runner.handle(delivery)),
    onError: (error) => logger.error('task handler failed', { error }),
  });
  logger.info('worker ready', { queue, concurrency: options.concurrency });
  return {
    async stop(deadlineMs = 20_000) {
      await consumer.stop({ deadlineMs });
      await relay.stop();
    },
  };
}
