// What a consumer handler sees and what it answers.
import type { JsMsg } from '@nats-io/jetstream';
import type { Msg } from '@nats-io/transport-node';
import { messageHeaders, safeHeaders } from './headers.ts';

export interface Delivery {
  subject: string;
  data: Uint8Array;
  headers: Record<string, string>;
  /** 1-based: 1 on the first delivery. */
  deliveryCount: number;
  streamSeq: number;
  redelivered: boolean;
  /** When the message was first published to the stream (redeliveries keep it). */
  publishedAt: Date;
  /** Extends the ack wait now; the consumer also does this on its own every heartbeat interval. */
  working(): void;
}

/** How a handled message is settled. `nak` is for hand-backs, not for waits (they go to the outbox). */
export type Disposition = { kind: 'ack' } | { kind: 'nak'; delayMs: number } | { kind: 'term' };

export function toDelivery(msg: JsMsg, working: () => void): Delivery {
  return {
    subject: msg.subject,
    data: msg.data,
    headers: deliveryHeaders(msg),
    deliveryCount: msg.info.deliveryCount,
    streamSeq: msg.info.streamSequence,
    redelivered: msg.redelivered,
    publishedAt: new Date(Math.floor(msg.info.timestampNanos / 1_000_000)),
    working,
  };
}

/**
 * Headers of a JetStream message, read through its core message (nats.js 3.x `JsMsgImpl.msg`) when
 * it has one, so a name nats.js cannot parse loses no other header.
 */
function deliveryHeaders(msg: JsMsg): Record<string, string> {
  const core = (msg as JsMsg & { msg?: Msg }).msg;
  return core ? messageHeaders(core) : safeHeaders(() => msg.headers);
}
