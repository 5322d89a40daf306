// Read-only views for operators: per-stream and per-consumer counters, and the live lease keys.
import { LEASES_BUCKET, type ConsumerStatsView, type StreamStatsView } from '@jetcel/contracts';
import type { ConsumerInfo } from '@nats-io/jetstream';
import type { Bus } from './connection.ts';
import { BusError } from './errors.ts';

const NANOS_PER_MS = 1_000_000;
const ZERO_TIME = /^0001-01-01/;

/** nats-server sends times as RFC 3339 strings; the zero time means "never". */
function isoOrNull(value: unknown): string | null {
  if (typeof value !== 'string' || value === '' || ZERO_TIME.test(value)) return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

function consumerView(info: ConsumerInfo): ConsumerStatsView {
  return {
    name: info.name,
    pending: info.num_pending,
    inFlight: info.num_ack_pending,
    redelivered: info.num_redelivered,
    waiting: info.num_waiting,
    ackWaitMs: Math.round((info.config.ack_wait ?? 0) / NANOS_PER_MS),
    lastDelivered: isoOrNull(info.delivered.last_active),
    lastAcked: isoOrNull(info.ack_floor.last_active),
  };
}

/**
 * Stream state and every consumer of each named stream (stream info and consumer list calls only).
 * The consumers of a stream are sorted by name.
 */
export async function streamStats(bus: Bus, streams: readonly string[]): Promise<StreamStatsView[]> {
  const jsm = await bus.jsm();
  return Promise.all(
    streams.map(async (stream): Promise<StreamStatsView> => {
      try {
        const { config, state } = await jsm.streams.info(stream);
        const consumers: ConsumerStatsView[] = [];
        for await (const info of jsm.consumers.list(stream)) consumers.push(consumerView(info));
        consumers.sort((a, b) => a.name.localeCompare(b.name));
        return {
          stream,
          subjects: config.subjects ?? [],
          messages: state.messages,
          bytes: state.bytes,
          firstSeq: state.first_seq,
          lastSeq: state.last_seq,
          lastActivity: state.last_seq > 0 ? isoOrNull(state.last_ts) : null,
          consumers,
        };
      } catch (error) {
        throw new BusError(`Could not read the state of stream ${stream}`, { cause: error });
      }
    }),
  );
}

export interface LeaseKeyView {
  key: string;
  revision: number;
  /** When this revision was written (the acquisition or the last renewal). */
  writtenAt: string;
  value: Uint8Array;
}

/**
 * Every live key of a KV bucket with its latest revision, read through stream info (subjects
 * filter) and message gets: no consumer is created, unlike a KV key listing.
 */
export async function bucketEntries(bus: Bus, bucket: string = LEASES_BUCKET): Promise<LeaseKeyView[]> {
  const jsm = await bus.jsm();
  const stream = `KV_${bucket}`;
  const prefix = `$KV.${bucket}.`;
  try {
    const info = await jsm.streams.info(stream, { subjects_filter: `${prefix}>` });
    const subjects = Object.keys(info.state.subjects ?? {}).sort();
    const entries = await Promise.all(
      subjects.map(async (subject) => {
        const stored = await jsm.streams.getMessage(stream, { last_by_subj: subject });
        if (!stored) return null;
        const operation = stored.header?.get('KV-Operation') ?? '';
        if (operation === 'DEL' || operation === 'PURGE') return null;
        return {
          key: subject.slice(prefix.length),
          revision: stored.seq,
          writtenAt: stored.time.toISOString(),
          value: stored.data,
        };
      }),
    );
    return entries.filter((entry): entry is LeaseKeyView => entry !== null);
  } catch (error) {
    throw new BusError(`Could not read bucket ${bucket}`, { cause: error });
  }
}
