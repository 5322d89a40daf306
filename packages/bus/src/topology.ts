// The streams and durable consumers jetcel needs, as plain data. The topology job applies it;
// services verify it. Names come from @jetcel/contracts only.
import type { BucketSpec } from './topology-buckets.ts';
import {
  EVENTS_STREAM,
  EVENTS_SUBJECTS,
  QUEUES,
  TASK_LANES,
  laneConsumer,
  laneStream,
  laneSubject,
  type QueueName,
  LEASES_BUCKET,
} from '@jetcel/contracts';

export interface StreamSpec {
  name: string;
  subjects: string[];
  retention: 'workqueue' | 'limits';
  /** 'new': a full stream refuses publishes instead of silently dropping the oldest tasks. */
  discard: 'new' | 'old';
  /** 0 = messages never expire. */
  maxAgeMs: number;
  /** -1 = unlimited. */
  maxBytes: number;
  storage: 'file' | 'memory';
  duplicateWindowMs: number;
  replicas: number;
}

export interface ConsumerSpec {
  stream: string;
  durable: string;
  ackPolicy: 'explicit';
  deliverPolicy: 'all';
  ackWaitMs: number;
  /** A finite backstop only; jetcel's own crash budget dead-letters long before this. */
  maxDeliver: number;
  /** Far above the worker slots: workers enforce concurrency themselves. */
  maxAckPending: number;
  /** Always empty: on 2.9 a BackOff silently replaces ack_wait (docs/design.md). */
  backoffMs: number[];
}

export interface Topology {
  streams: StreamSpec[];
  consumers: ConsumerSpec[];
  buckets: BucketSpec[];
}

export interface DefineTopologyOptions {
  /** Per task queue; default 256 MiB each. */
  maxBytes?: Partial<Record<QueueName, number>>;
  /** Per task queue; default regular 30 s, heavy 60 s, background 30 s. */
  ackWaitMs?: Partial<Record<QueueName, number>>;
  /** Default 2 min. An optimisation only: the claim in PostgreSQL is the guarantee. */
  duplicateWindowMs?: number;
  /** Default 7 days. */
  eventsMaxAgeMs?: number;
  /** Default 1; 3 on a three-node cluster. */
  replicas?: number;
  /** Default 1000. */
  maxDeliver?: number;
  /**
   * TTL of the lease bucket; default 60 s. At least the ack wait plus the longest wait between the
   * steps of a throttled span (a poll interval) plus 10 s, or live leases expire between renewals.
   */
  leaseTtlMs?: number;
  /** Per task queue; default 10000. Workers pull only for free slots, so this only needs to exceed them. */
  maxAckPending?: Partial<Record<QueueName, number>>;
}

const MIB = 1024 * 1024;
const DEFAULT_MAX_BYTES = 256 * MIB;
const DEFAULT_ACK_WAIT_MS: Record<QueueName, number> = { regular: 30_000, heavy: 60_000, background: 30_000 };
const DEFAULT_DUPLICATE_WINDOW_MS = 2 * 60_000;
const DEFAULT_EVENTS_MAX_AGE_MS = 7 * 24 * 60 * 60_000;
const DEFAULT_MAX_DELIVER = 1000;
const MAX_ACK_PENDING = 10_000;
const DEFAULT_LEASE_TTL_MS = 60_000;

export function defineTopology(options: DefineTopologyOptions = {}): Topology {
  const duplicateWindowMs = options.duplicateWindowMs ?? DEFAULT_DUPLICATE_WINDOW_MS;
  const replicas = options.replicas ?? 1;
  // Each queue's two lanes (short and long) are streams alike; a worker consumes both.
  const lanes = QUEUES.flatMap((queue) => TASK_LANES.map((lane) => ({ queue, lane })));
  const taskStreams = lanes.map(({ queue, lane }): StreamSpec => ({
    name: laneStream(queue, lane),
    subjects: [laneSubject(queue, lane)],
    retention: 'workqueue',
    discard: 'new',
    maxAgeMs: 0,
    maxBytes: options.maxBytes?.[queue] ?? DEFAULT_MAX_BYTES,
    storage: 'file',
    duplicateWindowMs,
    replicas,
  }));
  const events: StreamSpec = {
    name: EVENTS_STREAM,
    subjects: [EVENTS_SUBJECTS],
    retention: 'limits',
    discard: 'old',
    maxAgeMs: options.eventsMaxAgeMs ?? DEFAULT_EVENTS_MAX_AGE_MS,
    maxBytes: -1,
    storage: 'file',
    duplicateWindowMs,
    replicas,
  };
  const consumers = lanes.map(({ queue, lane }): ConsumerSpec => ({
    stream: laneStream(queue, lane),
    durable: laneConsumer(queue, lane),
    ackPolicy: 'explicit',
    deliverPolicy: 'all',
    ackWaitMs: options.ackWaitMs?.[queue] ?? DEFAULT_ACK_WAIT_MS[queue],
    maxDeliver: options.maxDeliver ?? DEFAULT_MAX_DELIVER,
    maxAckPending: options.maxAckPending?.[queue] ?? MAX_ACK_PENDING,
    backoffMs: [],
  }));
  const leases: BucketSpec = {
    name: LEASES_BUCKET,
    ttlMs: options.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS,
    history: 1,
    replicas,
  };
  return { streams: [...taskStreams, events], consumers, buckets: [leases] };
}
