// Typed errors raised by @jetcel/bus. Each has a stable `code`; callers branch on the code, never on
// nats.js error classes or message texts (those are mapped here, once).

export const BUS_ERROR_CODES = [
  'BUS_ERROR',
  'STREAM_FULL',
  'NO_STREAM',
  'PUBLISH_TIMEOUT',
  'NO_RESPONDERS',
  'REQUEST_TIMEOUT',
  'BAD_REPLY',
  'TOPOLOGY_DRIFT',
  'INVALID_REPLY_PREFIX',
] as const;
export type BusErrorCode = (typeof BUS_ERROR_CODES)[number];

/** Base class of every bus error; also used as is ('BUS_ERROR') for failures with no better class. */
export class BusError extends Error {
  readonly code: BusErrorCode;
  constructor(message: string, options?: { cause?: unknown; code?: BusErrorCode }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = options?.code ?? 'BUS_ERROR';
  }
}

/** A `discard: new` stream refused the message: the queue is at its max_bytes / max_msgs limit. */
export class StreamFullError extends BusError {
  readonly subject: string;
  constructor(subject: string, cause: unknown) {
    super(`Stream for ${subject} is full and refused the message`, { cause, code: 'STREAM_FULL' });
    this.subject = subject;
  }
}

/** No stream captures the subject (the topology job has not run, or the subject is wrong). */
export class NoStreamError extends BusError {
  readonly subject: string;
  constructor(subject: string, cause: unknown) {
    super(`No stream captures subject ${subject}`, { cause, code: 'NO_STREAM' });
    this.subject = subject;
  }
}

/** No PubAck arrived in time. The message may or may not be stored: re-publish with the same msgId. */
export class PublishTimeoutError extends BusError {
  readonly subject: string;
  constructor(subject: string, cause: unknown) {
    super(`No acknowledgement for the publish to ${subject} in time`, { cause, code: 'PUBLISH_TIMEOUT' });
    this.subject = subject;
  }
}

/** Nobody subscribes to a request subject (no executor is running). */
export class NoRespondersError extends BusError {
  readonly subject: string;
  constructor(subject: string, cause?: unknown) {
    super(`No responders for ${subject}`, { cause, code: 'NO_RESPONDERS' });
    this.subject = subject;
  }
}

/** A request got no reply in time. Core request-reply is at-most-once: retry with an Idempotency-Key. */
export class RequestTimeoutError extends BusError {
  readonly subject: string;
  constructor(subject: string, cause?: unknown) {
    super(`No reply from ${subject} in time`, { cause, code: 'REQUEST_TIMEOUT' });
    this.subject = subject;
  }
}

/** A reply arrived but is not JSON. */
export class BadReplyError extends BusError {
  readonly subject: string;
  constructor(subject: string, cause?: unknown) {
    super(`The reply from ${subject} is not valid JSON`, { cause, code: 'BAD_REPLY' });
    this.subject = subject;
  }
}

/** One difference between the code's topology and the live configuration. */
export type TopologyDrift =
  | { kind: 'stream' | 'consumer' | 'bucket'; name: string; problem: 'missing' }
  | {
      kind: 'stream' | 'consumer' | 'bucket';
      name: string;
      problem: 'differs';
      field: string;
      expected: unknown;
      actual: unknown;
    };

/** The live streams/consumers differ from the code's: run the topology job, services refuse to start. */
export class TopologyDriftError extends BusError {
  readonly drift: readonly TopologyDrift[];
  constructor(drift: readonly TopologyDrift[]) {
    super(`Topology drift: ${drift.map(describeDrift).join('; ')}`, { code: 'TOPOLOGY_DRIFT' });
    this.drift = drift;
  }
}

function describeDrift(d: TopologyDrift): string {
  if (d.problem === 'missing') return `${d.kind} ${d.name} is missing`;
  return `${d.kind} ${d.name}: ${d.field} is ${JSON.stringify(d.actual)}, expected ${JSON.stringify(d.expected)}`;
}
