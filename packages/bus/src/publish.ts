// Publishing: JetStream publish with a message id (the outbox row id) and plain core publish.
import type { Bus } from './connection.ts';
import { BusError, NoStreamError, PublishTimeoutError, StreamFullError } from './errors.ts';
import { toMsgHdrs } from './headers.ts';
import { isNoStream, isStreamFull, isTimeout } from './nats-errors.ts';

export interface PublishOptions {
  /** Becomes `Nats-Msg-Id`: the outbox row id, one per intent to publish. */
  msgId: string;
  headers?: Record<string, string>;
  /** How long to wait for the PubAck; default the connection's API timeout. */
  timeoutMs?: number;
}

export interface PublishResult {
  seq: number;
  /** True when the stream already held this msgId inside its duplicate window. */
  duplicate: boolean;
}

/**
 * Publishes to JetStream and waits for the PubAck.
 * Throws StreamFullError, NoStreamError, PublishTimeoutError or BusError.
 */
export async function publish(
  bus: Bus,
  subject: string,
  data: Uint8Array | string,
  options: PublishOptions,
): Promise<PublishResult> {
  const headers = toMsgHdrs(options.headers);
  try {
    const ack = await bus.js.publish(subject, data, {
      msgID: options.msgId,
      ...(headers === undefined ? {} : { headers }),
      ...(options.timeoutMs === undefined ? {} : { timeout: options.timeoutMs }),
    });
    return { seq: ack.seq, duplicate: ack.duplicate };
  } catch (err) {
    throw mapPublishError(subject, err);
  }
}

/** Plain core NATS publish: fire and forget, no stream involved. */
export function publishCore(
  bus: Bus,
  subject: string,
  data: Uint8Array | string,
  headers?: Record<string, string>,
): void {
  const hdrs = toMsgHdrs(headers);
  try {
    bus.nc.publish(subject, data, hdrs === undefined ? undefined : { headers: hdrs });
  } catch (err) {
    throw new BusError(`Could not publish to ${subject}`, { cause: err });
  }
}

function mapPublishError(subject: string, err: unknown): BusError {
  if (isStreamFull(err)) return new StreamFullError(subject, err);
  if (isNoStream(err)) return new NoStreamError(subject, err);
  if (isTimeout(err)) return new PublishTimeoutError(subject, err);
  const reason = err instanceof Error ? err.message : String(err);
  return new BusError(`Publish to ${subject} failed: ${reason}`, { cause: err });
}
