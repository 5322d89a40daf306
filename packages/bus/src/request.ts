// Core NATS request-reply: the executor's serving side (answering inboxes only) and the client's requestJson.
import type { Reply, ReplyError } from '@jetcel/contracts';
import type { Msg, Subscription } from '@nats-io/transport-node';
import type { Bus } from './connection.ts';
import { BadReplyError, BusError, NoRespondersError, RequestTimeoutError } from './errors.ts';
import { messageHeaders, toMsgHdrs } from './headers.ts';
import { isNoResponders, isTimeout } from './nats-errors.ts';
import { DEFAULT_REPLY_PREFIXES, isInboxReply, replyPrefix } from './reply-subject.ts';
import { messageBytes } from './raw-message.ts';

/** Requests one server handles at once when ServeRequestsOptions.maxInFlight is not given. */
export const DEFAULT_MAX_IN_FLIGHT = 256;

export interface IncomingRequest {
  subject: string;
  data: Uint8Array;
  headers: Record<string, string>;
}

/** A request dropped before any work: it had no reply subject, or one that is not an inbox. */
export interface RefusedRequest {
  reason: 'no_reply' | 'reply_subject';
  subject: string;
  /** The reply subject as received ('' when there was none); cut it before logging it. */
  reply: string;
}

export interface ServeRequestsOptions {
  /** e.g. [COMMAND_WILDCARD, QUERY_WILDCARD] from @jetcel/contracts. */
  subjects: string[];
  /** Queue group shared by all replicas, e.g. EXECUTOR_QUEUE_GROUP. */
  queue: string;
  /** Requests above this many bytes (header block and body together) are refused before any parsing. */
  maxBytes: number;
  /**
   * Requests handled at once; a request beyond it is answered by onBusy at once, without reading
   * its headers or body. @defaultValue DEFAULT_MAX_IN_FLIGHT
   */
  maxInFlight?: number;
  handler: (request: IncomingRequest) => Promise<string | Uint8Array>;
  onTooLarge: (request: { subject: string; size: number }) => string | Uint8Array;
  /** Reply for a request refused because maxInFlight are running; default an UNAVAILABLE envelope. */
  onBusy?: (request: { subject: string; inFlight: number }) => string | Uint8Array;
  /** Reply for a handler that threw; default an INTERNAL error envelope. */
  onHandlerError?: (request: IncomingRequest, err: unknown) => string | Uint8Array;
  onError?: (err: unknown) => void;
  /**
   * Reply subjects must start with one of these (see replyPrefix); any other request is dropped
   * before any work and reported to onRefused. @defaultValue ['_INBOX.']
   */
  replyPrefixes?: readonly string[];
  onRefused?: (request: RefusedRequest) => void;
}

export interface RequestServer {
  /** Resolves once the server has the subscriptions: requests sent after it find a responder. */
  ready(): Promise<void>;
  /** Unsubscribe (draining what already arrived), then wait for the requests in flight. */
  stop(): Promise<void>;
}

export function serveRequests(bus: Bus, options: ServeRequestsOptions): RequestServer {
  const inFlight = new Set<Promise<void>>();
  const onError = options.onError ?? (() => {});
  const report = (err: unknown): void => {
    try {
      onError(err);
    } catch {
      // an error callback must never break the server
    }
  };

  const prefixes = (options.replyPrefixes ?? DEFAULT_REPLY_PREFIXES).map(replyPrefix);
  const refused = (msg: Msg): boolean => {
    const reply = msg.reply ?? '';
    if (reply !== '' && isInboxReply(reply, prefixes)) return false;
    try {
      options.onRefused?.({ reason: reply === '' ? 'no_reply' : 'reply_subject', subject: msg.subject, reply });
    } catch (err) {
      report(err);
    }
    return true;
  };
  const maxInFlight = options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;

  const answer = async (msg: Msg): Promise<void> => {
    // Synchronous up to here: `inFlight` holds every other request still running.
    if (inFlight.size >= maxInFlight) {
      respond(msg, busyReply(options, msg.subject, inFlight.size, report), report);
      return;
    }
    const size = messageBytes(msg);
    if (size > options.maxBytes) {
      respond(msg, tooLargeReply(options, msg.subject, size, report), report);
      return;
    }
    const request: IncomingRequest = { subject: msg.subject, data: msg.data, headers: messageHeaders(msg) };
    let reply: string | Uint8Array;
    try {
      reply = await options.handler(request);
    } catch (err) {
      report(err);
      reply = handlerFailureReply(options, request, err, report);
    }
    respond(msg, reply, report);
  };

  const subscriptions: Subscription[] = options.subjects.map((subject) =>
    bus.nc.subscribe(subject, {
      queue: options.queue,
      callback: (err, msg) => {
        if (err) {
          report(new BusError(`Subscription to ${subject} failed`, { cause: err }));
          return;
        }
        if (refused(msg)) return;
        const task = answer(msg).catch(report);
        inFlight.add(task);
        void task.finally(() => inFlight.delete(task));
      },
    }),
  );

  let stopped: Promise<void> | undefined;
  return {
    ready: () => bus.nc.flush(),
    stop() {
      stopped ??= (async () => {
        await Promise.all(subscriptions.map((sub) => unsubscribe(sub, report)));
        while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
      })();
      return stopped;
    },
  };
}

export interface RequestJsonOptions {
  headers?: Record<string, string>;
  /** Default 5000 ms. */
  timeoutMs?: number;
}

/**
 * Sends a request and parses the JSON reply. A string or Uint8Array body is sent as is; anything
 * else is JSON-encoded. Throws NoRespondersError, RequestTimeoutError, BadReplyError or BusError.
 */
export async function requestJson(
  bus: Bus,
  subject: string,
  body: unknown,
  options: RequestJsonOptions = {},
): Promise<unknown> {
  const payload = typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body);
  const headers = toMsgHdrs(options.headers);
  let reply: Msg;
  try {
    reply = await bus.nc.request(subject, payload, {
      timeout: options.timeoutMs ?? 5_000,
      ...(headers === undefined ? {} : { headers }),
    });
  } catch (err) {
    if (isNoResponders(err)) throw new NoRespondersError(subject, err);
    if (isTimeout(err)) throw new RequestTimeoutError(subject, err);
    throw new BusError(`Request to ${subject} failed`, { cause: err });
  }
  try {
    return JSON.parse(new TextDecoder().decode(reply.data)) as unknown;
  } catch (err) {
    throw new BadReplyError(subject, err);
  }
}

function respond(msg: Msg, reply: string | Uint8Array, report: (err: unknown) => void): void {
  if (!msg.reply) return;
  try {
    msg.respond(reply);
  } catch (err) {
    report(new BusError(`Could not reply to ${msg.subject}`, { cause: err }));
  }
}

/** The reply an option callback builds, or `fallback` when there is none or it throws (reported). */
function customReply(
  build: (() => string | Uint8Array) | undefined,
  fallback: ReplyError,
  report: (err: unknown) => void,
): string | Uint8Array {
  if (build) {
    try {
      return build();
    } catch (err) {
      report(err);
    }
  }
  return errorEnvelope(fallback);
}

function tooLargeReply(
  options: ServeRequestsOptions,
  subject: string,
  size: number,
  report: (err: unknown) => void,
): string | Uint8Array {
  const message = `Payload of ${size} bytes exceeds the limit of ${options.maxBytes} bytes`;
  return customReply(
    () => options.onTooLarge({ subject, size }),
    { code: 'PAYLOAD_TOO_LARGE', message, retryable: false },
    report,
  );
}

function busyReply(
  options: ServeRequestsOptions,
  subject: string,
  inFlight: number,
  report: (err: unknown) => void,
): string | Uint8Array {
  const { onBusy } = options;
  const limit = options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
  const message = `${inFlight} requests are in flight (limit ${limit}); retry later`;
  return customReply(
    onBusy && (() => onBusy({ subject, inFlight })),
    { code: 'UNAVAILABLE', message, retryable: true },
    report,
  );
}

function handlerFailureReply(
  options: ServeRequestsOptions,
  request: IncomingRequest,
  err: unknown,
  report: (err: unknown) => void,
): string | Uint8Array {
  const { onHandlerError } = options;
  return customReply(
    onHandlerError && (() => onHandlerError(request, err)),
    { code: 'INTERNAL', message: 'internal error', retryable: true },
    report,
  );
}

function errorEnvelope(error: ReplyError): string {
  const envelope: Reply = { ok: false, error };
  return JSON.stringify(envelope);
}

async function unsubscribe(sub: Subscription, report: (err: unknown) => void): Promise<void> {
  if (sub.isClosed()) return;
  try {
    await sub.drain();
  } catch {
    try {
      sub.unsubscribe();
    } catch (err) {
      report(err);
    }
  }
}
