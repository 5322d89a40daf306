// Recognises nats.js failures by class and API code; the only place that knows their shapes.
import { JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream';
import { errors, RequestError } from '@nats-io/transport-node';

const FULL_STREAM = /maximum (bytes|messages|messages per subject) exceeded/i;

export function isStreamNotFound(err: unknown): boolean {
  return err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound;
}

export function isConsumerNotFound(err: unknown): boolean {
  return err instanceof JetStreamApiError && err.code === JetStreamApiCodes.ConsumerNotFound;
}

/** A `discard: new` refusal: "maximum bytes exceeded" / "maximum messages exceeded" (API code 10077). */
export function isStreamFull(err: unknown): boolean {
  return err instanceof JetStreamApiError && FULL_STREAM.test(err.message);
}

/**
 * nats.js reports "no stream for this subject" as JetStreamNotEnabled caused by a no-responders
 * reply. That class is not exported from @nats-io/jetstream's public entry, so match its name.
 */
export function isNoStream(err: unknown): boolean {
  if (isStreamNotFound(err)) return true;
  return err instanceof Error && err.name === 'JetStreamNotEnabled' && isNoResponders(err.cause);
}

export function isNoResponders(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e instanceof errors.NoRespondersError) return true;
    if (e instanceof RequestError && e.isNoResponders()) return true;
  }
  return false;
}

export function isTimeout(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e instanceof errors.TimeoutError) return true;
  }
  return false;
}
