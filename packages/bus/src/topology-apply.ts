// The admin side: create what is missing, update what changed, report what was done.
import type { JetStreamManager } from '@nats-io/jetstream';
import type { Bus } from './connection.ts';
import { BusError } from './errors.ts';
import { isConsumerNotFound, isStreamNotFound } from './nats-errors.ts';
import type { ConsumerSpec, StreamSpec, Topology } from './topology.ts';
import { applyBucket } from './topology-buckets.ts';
import {
  consumerConfig,
  consumerDisplayName,
  consumerUpdateConfig,
  diffConsumer,
  diffStream,
  streamConfig,
  streamUpdateConfig,
  type FieldDiff,
} from './topology-config.ts';

export interface TopologyChange {
  kind: 'stream' | 'consumer' | 'bucket';
  /** Stream name, or `<stream>/<durable>` for a consumer. */
  name: string;
  action: 'created' | 'updated' | 'unchanged';
  /** For 'updated': the fields that differed, with the live value before the update. */
  fields: FieldDiff[];
}

export interface TopologyReport {
  changes: TopologyChange[];
}

/** Creates missing streams and consumers and updates changed ones. Needs an admin credential. */
export async function applyTopology(bus: Bus, topology: Topology): Promise<TopologyReport> {
  const jsm = await bus.jsm();
  const changes: TopologyChange[] = [];
  for (const spec of topology.streams) changes.push(await applyStream(jsm, spec));
  for (const spec of topology.consumers) changes.push(await applyConsumer(jsm, spec));
  for (const spec of topology.buckets) changes.push(await guard(`apply bucket ${spec.name}`, applyBucket(bus, spec)));
  return { changes };
}

async function applyStream(jsm: JetStreamManager, spec: StreamSpec): Promise<TopologyChange> {
  const live = await jsm.streams.info(spec.name).catch((err: unknown) => {
    if (isStreamNotFound(err)) return null;
    throw new BusError(`Could not read stream ${spec.name}`, { cause: err });
  });
  if (live === null) {
    await guard(`create stream ${spec.name}`, jsm.streams.add(streamConfig(spec)));
    return { kind: 'stream', name: spec.name, action: 'created', fields: [] };
  }
  const fields = diffStream(spec, live.config);
  if (fields.length === 0) return { kind: 'stream', name: spec.name, action: 'unchanged', fields };
  await guard(`update stream ${spec.name}`, jsm.streams.update(spec.name, streamUpdateConfig(spec)));
  return { kind: 'stream', name: spec.name, action: 'updated', fields };
}

async function applyConsumer(jsm: JetStreamManager, spec: ConsumerSpec): Promise<TopologyChange> {
  const name = consumerDisplayName(spec);
  const live = await jsm.consumers.info(spec.stream, spec.durable).catch((err: unknown) => {
    if (isConsumerNotFound(err)) return null;
    throw new BusError(`Could not read consumer ${name}`, { cause: err });
  });
  if (live === null) {
    await guard(`create consumer ${name}`, jsm.consumers.add(spec.stream, consumerConfig(spec)));
    return { kind: 'consumer', name, action: 'created', fields: [] };
  }
  const fields = diffConsumer(spec, live.config);
  if (fields.length === 0) return { kind: 'consumer', name, action: 'unchanged', fields };
  await guard(`update consumer ${name}`, jsm.consumers.update(spec.stream, spec.durable, consumerUpdateConfig(spec)));
  return { kind: 'consumer', name, action: 'updated', fields };
}

async function guard<T>(what: string, operation: Promise<T>): Promise<T> {
  try {
    return await operation;
  } catch (err) {
    throw new BusError(`Topology: could not ${what}: ${err instanceof Error ? err.message : String(err)}`, {
      cause: err,
    });
  }
}
