// Maps topology specs to nats.js configs and compares them with live configs, field by field,
// for exactly the fields the code sets.
import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  RetentionPolicy,
  StorageType,
  type ConsumerConfig,
  type ConsumerUpdateConfig,
  type StreamConfig,
  type StreamUpdateConfig,
} from '@nats-io/jetstream';
import { millis, nanos } from '@nats-io/transport-node';
import type { ConsumerSpec, StreamSpec } from './topology.ts';

export interface FieldDiff {
  field: string;
  expected: unknown;
  actual: unknown;
}

export function consumerDisplayName(spec: ConsumerSpec): string {
  return `${spec.stream}/${spec.durable}`;
}

export function streamConfig(spec: StreamSpec): Partial<StreamConfig> & { name: string } {
  return {
    name: spec.name,
    subjects: [...spec.subjects],
    retention: spec.retention === 'workqueue' ? RetentionPolicy.Workqueue : RetentionPolicy.Limits,
    discard: spec.discard === 'new' ? DiscardPolicy.New : DiscardPolicy.Old,
    max_age: nanos(spec.maxAgeMs),
    max_bytes: spec.maxBytes,
    storage: spec.storage === 'file' ? StorageType.File : StorageType.Memory,
    duplicate_window: nanos(spec.duplicateWindowMs),
    num_replicas: spec.replicas,
  };
}

/** The updatable subset (retention and storage cannot change on a live stream). */
export function streamUpdateConfig(spec: StreamSpec): Partial<StreamUpdateConfig> {
  return {
    subjects: [...spec.subjects],
    discard: spec.discard === 'new' ? DiscardPolicy.New : DiscardPolicy.Old,
    max_age: nanos(spec.maxAgeMs),
    max_bytes: spec.maxBytes,
    duplicate_window: nanos(spec.duplicateWindowMs),
    num_replicas: spec.replicas,
  };
}

export function consumerConfig(spec: ConsumerSpec): Partial<ConsumerConfig> {
  return {
    durable_name: spec.durable,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: nanos(spec.ackWaitMs),
    max_deliver: spec.maxDeliver,
    max_ack_pending: spec.maxAckPending,
    ...(spec.backoffMs.length > 0 ? { backoff: spec.backoffMs.map(nanos) } : {}),
  };
}

/** The updatable subset; an empty backoff list removes a BackOff someone added by hand. */
export function consumerUpdateConfig(spec: ConsumerSpec): Partial<ConsumerUpdateConfig> {
  return {
    ack_wait: nanos(spec.ackWaitMs),
    max_deliver: spec.maxDeliver,
    max_ack_pending: spec.maxAckPending,
    backoff: spec.backoffMs.map(nanos),
  };
}

export function diffStream(spec: StreamSpec, live: StreamConfig): FieldDiff[] {
  const expected = streamConfig(spec);
  return collect([
    ['subjects', [...spec.subjects].sort(), [...(live.subjects ?? [])].sort()],
    ['retention', expected.retention, live.retention],
    ['discard', expected.discard, live.discard],
    ['max_age_ms', spec.maxAgeMs, millis(live.max_age)],
    ['max_bytes', spec.maxBytes, live.max_bytes],
    ['storage', expected.storage, live.storage],
    ['duplicate_window_ms', spec.duplicateWindowMs, millis(live.duplicate_window)],
    ['num_replicas', spec.replicas, live.num_replicas],
  ]);
}

export function diffConsumer(spec: ConsumerSpec, live: ConsumerConfig): FieldDiff[] {
  return collect([
    ['ack_policy', AckPolicy.Explicit, live.ack_policy],
    ['deliver_policy', DeliverPolicy.All, live.deliver_policy],
    ['ack_wait_ms', spec.ackWaitMs, millis(live.ack_wait ?? 0)],
    ['max_deliver', spec.maxDeliver, live.max_deliver],
    ['max_ack_pending', spec.maxAckPending, live.max_ack_pending],
    ['backoff_ms', spec.backoffMs, (live.backoff ?? []).map(millis)],
    ['filter_subject', '', live.filter_subject ?? ''],
  ]);
}

function collect(rows: Array<[string, unknown, unknown]>): FieldDiff[] {
  return rows
    .filter(([, expected, actual]) => JSON.stringify(expected) !== JSON.stringify(actual))
    .map(([field, expected, actual]) => ({ field, expected, actual }));
}
