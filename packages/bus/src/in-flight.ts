// One message between delivery and settlement: it is the handler's Delivery, heartbeats on the
// worker's one timer, and is settled exactly once.
import type { JsMsg } from '@nats-io/jetstream';
import type { Msg } from '@nats-io/transport-node';
import type { Delivery, Disposition } from './delivery.ts';
import { BusError } from './errors.ts';
import { messageHeaders, safeHeaders } from './headers.ts';
import type { Beat, BeatOwner, Heartbeats } from './heartbeats.ts';

export type Settlement = 'acked' | 'naked' | 'termed' | 'failed' | 'skipped';

/**
 * Built once per message and used as it is: the delivery the handler sees, the beat the worker's
 * timer runs (no closure per message), and the holder of its settlement.
 */
export class InFlightMessage implements Delivery, Beat, BeatOwner {
  readonly subject: string;
  readonly data: Uint8Array;
  readonly headers: Record<string, string>;
  readonly deliveryCount: number;
  readonly streamSeq: number;
  readonly redelivered: boolean;
  periodMs: number;
  dueAt: number;
  /** What the handler answered, waiting for the next batch of settlements. */
  disposition: Disposition | undefined;
  readonly #msg: JsMsg;
  readonly #heartbeats: Heartbeats;
  readonly #onError: (err: unknown) => void;
  readonly #ownPeriodMs: number;
  /** A beat riding on this message's (a running task's claim), at most one. */
  #rider: (() => void) | undefined;
  #settled = false;

  constructor(msg: JsMsg, heartbeats: Heartbeats, heartbeatMs: number, onError: (err: unknown) => void) {
    this.#msg = msg;
    this.#heartbeats = heartbeats;
    this.#onError = onError;
    this.subject = msg.subject;
    this.data = msg.data;
    this.headers = deliveryHeaders(msg);
    const { info } = msg;
    this.deliveryCount = info.deliveryCount;
    this.streamSeq = info.streamSequence;
    this.redelivered = info.redelivered;
    this.#ownPeriodMs = heartbeatMs;
    this.periodMs = heartbeatMs;
    this.dueAt = Date.now() + heartbeatMs;
    heartbeats.track(this);
  }

  get publishedAt(): Date {
    return new Date(Math.floor(this.#msg.info.timestampNanos / 1_000_000));
  }

  get heartbeat(): BeatOwner {
    return this;
  }

  /** Lets `beat` ride on this message's heartbeat, at the shorter period, until the returned function is called. */
  add(periodMs: number, beat: () => void): () => void {
    // A second rider (not made by the runtime) gets a beat of its own.
    if (this.#rider !== undefined || this.#settled) return this.#heartbeats.add(periodMs, beat);
    this.#rider = beat;
    if (periodMs < this.periodMs) {
      this.periodMs = periodMs;
      this.dueAt = Math.min(this.dueAt, Date.now() + periodMs);
      this.#heartbeats.retune(this);
    }
    return () => {
      if (this.#rider !== beat) return;
      this.#rider = undefined;
      this.periodMs = this.#ownPeriodMs;
    };
  }

  /** One beat: `+WPI` for the message, then whatever rides on it. */
  beat(): void {
    this.working();
    this.#rider?.();
  }

  /** `+WPI`: resets the server's ack-wait timer for this message. */
  working(): void {
    if (this.#settled) return;
    try {
      this.#msg.working();
    } catch (err) {
      this.#onError(new BusError('Heartbeat (working) failed', { cause: err }));
    }
  }

  /**
   * Applies the handler's disposition, unless the message was already handed back. An ack is not
   * confirmed (no ackAck round trip): a lost ack only brings the message back after ack_wait, and
   * a redelivery of finished work is answered by its claim; the confirmation cost ~14 % of a
   * busy worker's CPU, most of it an Error built per request for its stack.
   */
  settle(disposition: Disposition): Settlement {
    if (this.#settled) return 'skipped';
    this.#finish();
    try {
      switch (disposition.kind) {
        case 'ack':
          this.#msg.ack();
          return 'acked';
        case 'nak':
          this.#msg.nak(Math.max(0, Math.floor(disposition.delayMs)));
          return 'naked';
        case 'term':
          // No reason argument: nats-server 2.9 silently ignores `+TERM <reason>`.
          this.#msg.term();
          return 'termed';
      }
    } catch (err) {
      this.#onError(new BusError(`Could not ${disposition.kind} stream message ${this.streamSeq}`, { cause: err }));
      return 'failed';
    }
  }

  /** nak(0): give the message back to the stream at once (shutdown, excess delivery). */
  handBack(): boolean {
    if (this.#settled) return false;
    this.#finish();
    try {
      this.#msg.nak();
      return true;
    } catch (err) {
      this.#onError(new BusError(`Could not hand back stream message ${this.streamSeq}`, { cause: err }));
      return false;
    }
  }

  #finish(): void {
    this.#settled = true;
    this.#rider = undefined;
    this.#heartbeats.untrack(this);
  }
}

/**
 * Headers of a JetStream message, read through its core message (nats.js 3.x `JsMsgImpl.msg`) when
 * it has one, so a name nats.js cannot parse loses no other header.
 */
function deliveryHeaders(msg: JsMsg): Record<string, string> {
  const core = (msg as JsMsg & { msg?: Msg }).msg;
  return core ? messageHeaders(core) : safeHeaders(() => msg.headers);
}
