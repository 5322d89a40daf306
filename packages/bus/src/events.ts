// Read-side helpers for tests and tooling: core subscriptions and what a stream holds.
import { millis } from '@nats-io/transport-node';
import type { Bus } from './connection.ts';
import { BusError } from './errors.ts';
import { messageHeaders, safeHeaders } from './headers.ts';

export interface CoreMessage {
  subject: string;
  data: Uint8Array;
  headers: Record<string, string>;
}

/** Subscribes with core NATS (no stream); returns the unsubscribe function. */
export function subscribeCore(
  bus: Bus,
  subject: string,
  callback: (message: CoreMessage) => void,
  options: { queue?: string; onError?: (err: unknown) => void } = {},
): () => void {
  const sub = bus.nc.subscribe(subject, {
    ...(options.queue === undefined ? {} : { queue: options.queue }),
    callback: (err, msg) => {
      if (err) {
        options.onError?.(err);
        return;
      }
      try {
        callback({ subject: msg.subject, data: msg.data, headers: messageHeaders(msg) });
      } catch (callbackErr) {
        options.onError?.(callbackErr);
      }
    },
  });
  return () => {
    if (!sub.isClosed()) sub.unsubscribe();
  };
}

export interface StoredMessage {
  subject: string;
  data: Uint8Array;
  headers: Record<string, string>;
  seq: number;
}

/**
 * Reads what a stream holds, oldest first, without consuming anything (direct message gets, so
 * it also works on WorkQueue streams, which refuse a second unfiltered consumer).
 */
export async function readStreamMessages(
  bus: Bus,
  stream: string,
  options: { subject?: string; max?: number } = {},
): Promise<StoredMessage[]> {
  const jsm = await bus.jsm();
  const max = options.max ?? Number.POSITIVE_INFINITY;
  const messages: StoredMessage[] = [];
  try {
    const { state } = await jsm.streams.info(stream);
    let seq = state.first_seq;
    while (messages.length < max && seq <= state.last_seq && state.messages > 0) {
      // next_by_subj is honoured by STREAM.MSG.GET on 2.9.10, though nats.js types it for direct gets only
      const query = options.subject === undefined ? { seq } : { seq, next_by_subj: options.subject };
      const stored = await jsm.streams.getMessage(stream, query);
      if (stored === null) {
        if (options.subject !== undefined) break; // nothing further matches
        seq++;
        continue;
      }
      messages.push({
        subject: stored.subject,
        data: stored.data,
        headers: safeHeaders(() => stored.header),
        seq: stored.seq,
      });
      seq = stored.seq + 1;
    }
  } catch (err) {
    throw new BusError(`Could not read stream ${stream}`, { cause: err });
  }
  return messages;
}

export interface StreamSummary {
  messages: number;
  bytes: number;
  firstSeq: number;
  lastSeq: number;
  consumerCount: number;
}

export async function streamInfo(bus: Bus, stream: string): Promise<StreamSummary> {
  const jsm = await bus.jsm();
  const { state } = await jsm.streams.info(stream);
  return {
    messages: state.messages,
    bytes: state.bytes,
    firstSeq: state.first_seq,
    lastSeq: state.last_seq,
    consumerCount: state.consumer_count,
  };
}

export interface ConsumerSummary {
  /** Messages not yet delivered to this consumer. */
  numPending: number;
  /** Delivered and not yet acked. */
  numAckPending: number;
  numRedelivered: number;
  /** The effective ack wait. */
  ackWaitMs: number;
}

export async function consumerInfo(bus: Bus, stream: string, consumer: string): Promise<ConsumerSummary> {
  const jsm = await bus.jsm();
  const info = await jsm.consumers.info(stream, consumer);
  return {
    numPending: info.num_pending,
    numAckPending: info.num_ack_pending,
    numRedelivered: info.num_redelivered,
    ackWaitMs: millis(info.config.ack_wait ?? 0),
  };
}
