// One message between delivery and settlement: heartbeats it, then settles it exactly once.
import type { JsMsg } from '@nats-io/jetstream';
import { toDelivery, type Delivery, type Disposition } from './delivery.ts';
import { BusError } from './errors.ts';
import type { Heartbeats } from './heartbeats.ts';

export type Settlement = 'acked' | 'naked' | 'termed' | 'failed' | 'skipped';

export class InFlightMessage {
  readonly delivery: Delivery;
  private readonly msg: JsMsg;
  private readonly onError: (err: unknown) => void;
  private readonly stopBeating: () => void;
  private settled = false;

  constructor(msg: JsMsg, heartbeats: Heartbeats, heartbeatMs: number, onError: (err: unknown) => void) {
    this.msg = msg;
    this.onError = onError;
    this.delivery = toDelivery(msg, () => this.heartbeat());
    this.stopBeating = heartbeats.add(heartbeatMs, () => this.heartbeat());
  }

  /** `+WPI`: resets the server's ack-wait timer for this message. */
  heartbeat(): void {
    if (this.settled) return;
    try {
      this.msg.working();
    } catch (err) {
      this.onError(new BusError('Heartbeat (working) failed', { cause: err }));
    }
  }

  /**
   * Applies the handler's disposition, unless the message was already handed back. An ack is not
   * confirmed (no ackAck round trip): a lost ack only brings the message back after ack_wait, and
   * a redelivery of finished work is answered by its claim; the confirmation cost ~14 % of a
   * busy worker's CPU, most of it an Error built per request for its stack.
   */
  settle(disposition: Disposition): Settlement {
    if (this.settled) return 'skipped';
    this.finish();
    try {
      switch (disposition.kind) {
        case 'ack':
          this.msg.ack();
          return 'acked';
        case 'nak':
          this.msg.nak(Math.max(0, Math.floor(disposition.delayMs)));
          return 'naked';
        case 'term':
          // No reason argument: nats-server 2.9 silently ignores `+TERM <reason>`.
          this.msg.term();
          return 'termed';
      }
    } catch (err) {
      this.onError(
        new BusError(`Could not ${disposition.kind} stream message ${this.delivery.streamSeq}`, { cause: err }),
      );
      return 'failed';
    }
  }

  /** nak(0): give the message back to the stream at once (shutdown, excess delivery). */
  handBack(): boolean {
    if (this.settled) return false;
    this.finish();
    try {
      this.msg.nak();
      return true;
    } catch (err) {
      this.onError(new BusError(`Could not hand back stream message ${this.delivery.streamSeq}`, { cause: err }));
      return false;
    }
  }

  private finish(): void {
    this.settled = true;
    this.stopBeating();
  }
}
