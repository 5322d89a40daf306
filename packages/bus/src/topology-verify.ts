// The service side: read-only checks that the live topology matches the code's.
import type { QueueName } from '@jetcel/contracts';
import { taskConsumer, taskStream } from '@jetcel/contracts';
import { millis } from '@nats-io/transport-node';
import type { Bus } from './connection.ts';
import { BusError, TopologyDriftError, type TopologyDrift } from './errors.ts';
import { isConsumerNotFound, isStreamNotFound } from './nats-errors.ts';
import type { Topology } from './topology.ts';
import { verifyBucket } from './topology-buckets.ts';
import { consumerDisplayName, diffConsumer, diffStream } from './topology-config.ts';

export interface VerifyTopologyOptions {
  /** Check only these streams (and their consumers); default: all of them. */
  streams?: string[];
  /** Check the KV buckets too; default true. */
  buckets?: boolean;
}

/** Throws TopologyDriftError listing every missing stream/consumer and every differing field. */
export async function verifyTopology(bus: Bus, topology: Topology, options: VerifyTopologyOptions = {}): Promise<void> {
  const wanted = options.streams === undefined ? undefined : new Set(options.streams);
  const included = (stream: string): boolean => wanted === undefined || wanted.has(stream);
  const jsm = await bus.jsm();
  const drift: TopologyDrift[] = [];
  const missingStreams = new Set<string>();

  for (const spec of topology.streams.filter((s) => included(s.name))) {
    const live = await jsm.streams.info(spec.name).catch((err: unknown) => {
      if (isStreamNotFound(err)) return null;
      throw new BusError(`Could not read stream ${spec.name}`, { cause: err });
    });
    if (live === null) {
      missingStreams.add(spec.name);
      drift.push({ kind: 'stream', name: spec.name, problem: 'missing' });
      continue;
    }
    for (const d of diffStream(spec, live.config))
      drift.push({ kind: 'stream', name: spec.name, problem: 'differs', ...d });
  }

  for (const spec of topology.consumers.filter((c) => included(c.stream))) {
    const name = consumerDisplayName(spec);
    if (missingStreams.has(spec.stream)) {
      drift.push({ kind: 'consumer', name, problem: 'missing' });
      continue;
    }
    const live = await jsm.consumers.info(spec.stream, spec.durable).catch((err: unknown) => {
      if (isConsumerNotFound(err) || isStreamNotFound(err)) return null;
      throw new BusError(`Could not read consumer ${name}`, { cause: err });
    });
    if (live === null) {
      drift.push({ kind: 'consumer', name, problem: 'missing' });
      continue;
    }
    for (const d of diffConsumer(spec, live.config)) drift.push({ kind: 'consumer', name, problem: 'differs', ...d });
  }

  if (options.buckets !== false) for (const spec of topology.buckets) drift.push(...(await verifyBucket(bus, spec)));
  if (drift.length > 0) throw new TopologyDriftError(drift);
}

/**
 * The ack wait the server actually applies to a queue's consumer, read from consumer info.
 * On 2.9 a BackOff silently replaces the configured ack_wait, so never trust the config you wrote.
 */
export async function effectiveAckWaitMs(bus: Bus, queue: QueueName): Promise<number> {
  const jsm = await bus.jsm();
  const info = await jsm.consumers.info(taskStream(queue), taskConsumer(queue));
  return millis(info.config.ack_wait ?? 0);
}
