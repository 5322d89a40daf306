// KV buckets in the topology: the lease bucket, created by the topology job with its TTL.
import { Kvm } from '@nats-io/kv';
import { millis, nanos } from '@nats-io/transport-node';
import type { JetStreamManager } from '@nats-io/jetstream';
import type { Bus } from './connection.ts';
import type { TopologyDrift } from './errors.ts';
import { isStreamNotFound } from './nats-errors.ts';
import type { TopologyChange } from './topology-apply.ts';

export interface BucketSpec {
  name: string;
  /** Bucket TTL: every key expires this long after its last write (renewal is a write). */
  ttlMs: number;
  history: number;
  replicas: number;
}

const streamOf = (bucket: string): string => `KV_${bucket}`;

async function liveBucket(jsm: JetStreamManager, spec: BucketSpec) {
  return jsm.streams.info(streamOf(spec.name)).catch((err: unknown) => {
    if (isStreamNotFound(err)) return null;
    throw err;
  });
}

function bucketDiff(spec: BucketSpec, config: { max_age: number; max_msgs_per_subject: number; num_replicas: number }) {
  const fields = [
    { field: 'ttl_ms', expected: spec.ttlMs, actual: millis(config.max_age) },
    { field: 'history', expected: spec.history, actual: config.max_msgs_per_subject },
    { field: 'replicas', expected: spec.replicas, actual: config.num_replicas },
  ];
  return fields.filter((field) => field.expected !== field.actual);
}

export async function applyBucket(bus: Bus, spec: BucketSpec): Promise<TopologyChange> {
  const jsm = await bus.jsm();
  const live = await liveBucket(jsm, spec);
  if (live === null) {
    await new Kvm(bus.nc).create(spec.name, { ttl: spec.ttlMs, history: spec.history, replicas: spec.replicas });
    return { kind: 'bucket', name: spec.name, action: 'created', fields: [] };
  }
  const fields = bucketDiff(spec, live.config);
  if (fields.length === 0) return { kind: 'bucket', name: spec.name, action: 'unchanged', fields };
  await jsm.streams.update(streamOf(spec.name), {
    ...live.config,
    max_age: nanos(spec.ttlMs),
    max_msgs_per_subject: spec.history,
    num_replicas: spec.replicas,
    duplicate_window: nanos(Math.min(spec.ttlMs, 120_000)),
  });
  return { kind: 'bucket', name: spec.name, action: 'updated', fields };
}

export async function verifyBucket(bus: Bus, spec: BucketSpec): Promise<TopologyDrift[]> {
  const live = await liveBucket(await bus.jsm(), spec);
  if (live === null) return [{ kind: 'bucket', name: spec.name, problem: 'missing' }];
  return bucketDiff(spec, live.config).map((field) => ({
    kind: 'bucket' as const,
    name: spec.name,
    problem: 'differs' as const,
    ...field,
  }));
}
