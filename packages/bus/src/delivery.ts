// What a consumer handler sees and what it answers.
import type { BeatOwner } from './heartbeats.ts';

export interface Delivery {
  subject: string;
  data: Uint8Array;
  /** Decoded once, when the message arrives; every reader (decode, gate, span, log) shares it. */
  headers: Record<string, string>;
  /** 1-based: 1 on the first delivery. */
  deliveryCount: number;
  streamSeq: number;
  redelivered: boolean;
  /** When the message was first published to the stream (redeliveries keep it). */
  publishedAt: Date;
  /** Extends the ack wait now; the consumer also does this on its own every heartbeat interval. */
  working(): void;
  /**
   * The message's own heartbeat: a beat added here (a task's claim) runs with it, as one beat at
   * the shorter of the two periods, so a running task and its message share one. A delivery from
   * the consumer always has one; a hand-made one may not.
   */
  heartbeat?: BeatOwner;
}

/** How a handled message is settled. `nak` is for hand-backs, not for waits (they go to the outbox). */
export type Disposition = { kind: 'ack' } | { kind: 'nak'; delayMs: number } | { kind: 'term' };
