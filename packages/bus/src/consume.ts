// The worker side of a task queue: pull only for free slots, heartbeat every in-flight message (one timer),
// settle each one explicitly, survive reconnects, hand back what is left at shutdown.
import { laneConsumer, laneStream, type QueueName, type TaskLane } from '@jetcel/contracts';
import type { Consumer } from '@nats-io/jetstream';
import { millis } from '@nats-io/transport-node';
import type { Bus } from './connection.ts';
import type { Delivery, Disposition } from './delivery.ts';
import { BusError } from './errors.ts';
import { Heartbeats } from './heartbeats.ts';
import { SlotPuller, type ConsumerStats } from './slot-puller.ts';

export interface StartConsumerOptions {
  queue: QueueName;
  /** The queue's lane to consume; default `short` (the queue's own stream). */
  lane?: TaskLane;
  /** Handler slots: in-flight plus requested messages never exceed this. */
  concurrency: number;
  handler: (delivery: Delivery) => Promise<Disposition>;
  /** Default: the consumer's effective ack_wait / 3, read from consumer info. */
  heartbeatMs?: number;
  /** The worker's heartbeat owner (one timer for its messages and its tasks); default: the consumer's own. */
  heartbeats?: Heartbeats;
  onError?: (err: unknown) => void;
  /** Lifetime of one pull request; default 5000 ms (nats.js minimum 1000). */
  expiresMs?: number;
}

export interface ConsumerHandle {
  /** Stop pulling, wait for in-flight handlers up to the deadline (default 30 s), then nak(0) the rest. */
  stop(options?: { deadlineMs?: number }): Promise<void>;
  inFlight(): number;
  stats(): ConsumerStats;
}

const DEFAULT_EXPIRES_MS = 5_000;
const DEFAULT_STOP_DEADLINE_MS = 30_000;

export async function startConsumer(bus: Bus, options: StartConsumerOptions): Promise<ConsumerHandle> {
  if (!Number.isInteger(options.concurrency) || options.concurrency < 1) {
    throw new BusError(`concurrency must be a positive integer, got ${options.concurrency}`);
  }
  const lane = options.lane ?? 'short';
  const stream = laneStream(options.queue, lane);
  const durable = laneConsumer(options.queue, lane);
  let consumer: Consumer;
  let ackWaitMs: number;
  try {
    consumer = await bus.js.consumers.get(stream, durable);
    ackWaitMs = millis((await consumer.info(true)).config.ack_wait ?? 0);
  } catch (err) {
    throw new BusError(`Cannot start consumer ${stream}/${durable}`, { cause: err });
  }
  const puller = new SlotPuller(bus.nc, consumer, {
    concurrency: options.concurrency,
    handler: options.handler,
    heartbeatMs: options.heartbeatMs ?? Math.max(100, Math.floor(ackWaitMs / 3)),
    heartbeats: options.heartbeats ?? new Heartbeats(),
    expiresMs: Math.max(1_000, options.expiresMs ?? DEFAULT_EXPIRES_MS),
    onError: options.onError ?? (() => {}),
  });
  puller.start();
  return {
    stop: (stopOptions) => puller.stop(stopOptions?.deadlineMs ?? DEFAULT_STOP_DEADLINE_MS),
    inFlight: () => puller.inFlightCount(),
    stats: () => puller.snapshot(),
  };
}
