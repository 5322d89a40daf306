// The one NATS connection a process holds, with JetStream handles and reconnect-forever settings.
import { connect, type NatsConnection, type Status } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';

/** A connection-level event: disconnect, reconnecting, reconnect, error, slowConsumer, close… */
export interface BusStatusEvent {
  type: string;
  data?: unknown;
}

export interface ConnectBusOptions {
  servers: string | string[];
  /** Connection name shown by the server (`nats server report connections`). */
  name: string;
  user?: string;
  pass?: string;
  token?: string;
  /**
   * Prefix of this connection's reply inboxes (request-reply, JetStream API, pulls). Default
   * `_INBOX.<user>` when a user name is given (a single subject token), else `_INBOX`: with
   * deploy/nats/permissions.conf each role may subscribe only to its own `_INBOX.<user>.>`.
   */
  inboxPrefix?: string;
  /** Called for every connection status change; use it to log disconnects and reconnects. */
  onStatus?: (event: BusStatusEvent) => void;
  /** Pause between reconnect attempts to one server; default 1000 ms. */
  reconnectTimeWaitMs?: number;
  /** Timeout of JetStream API calls and publish acks; default 5000 ms. */
  apiTimeoutMs?: number;
}

export interface Bus {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  /** The JetStream manager (admin and info API), created once on first use. */
  jsm(): Promise<JetStreamManager>;
  /** Close at once: pending requests and subscriptions are dropped. */
  close(): Promise<void>;
  /** Let subscriptions finish their pending messages, flush, then close. */
  drain(): Promise<void>;
  /** Resolves when the connection is closed, for whatever reason. */
  readonly closed: Promise<void>;
}

const DEFAULT_RECONNECT_WAIT_MS = 1_000;
const DEFAULT_API_TIMEOUT_MS = 5_000;
const INBOX_TOKEN = /^[A-Za-z0-9_-]+$/;

/** `_INBOX.<user>` for a user name that is one subject token; undefined (nats.js' `_INBOX`) otherwise. */
function defaultInboxPrefix(user: string | undefined): string | undefined {
  return user !== undefined && INBOX_TOKEN.test(user) ? `_INBOX.${user}` : undefined;
}

export async function connectBus(options: ConnectBusOptions): Promise<Bus> {
  const inboxPrefix = options.inboxPrefix ?? defaultInboxPrefix(options.user);
  const nc = await connect({
    servers: options.servers,
    name: options.name,
    ...(options.user === undefined ? {} : { user: options.user }),
    ...(options.pass === undefined ? {} : { pass: options.pass }),
    ...(options.token === undefined ? {} : { token: options.token }),
    ...(inboxPrefix === undefined ? {} : { inboxPrefix }),
    maxReconnectAttempts: -1,
    reconnectTimeWait: options.reconnectTimeWaitMs ?? DEFAULT_RECONNECT_WAIT_MS,
    reconnectJitter: 100,
    // No Error built per request for its call site (a publish, a KV write): that stack capture was
    // about 40 % of a publishing client's CPU; our errors name the subject and the operation.
    noAsyncTraces: true,
  });
  const onStatus = options.onStatus;
  if (onStatus) void forwardStatus(nc, onStatus);

  const apiTimeout = options.apiTimeoutMs ?? DEFAULT_API_TIMEOUT_MS;
  const js = jetstream(nc, { timeout: apiTimeout });
  let manager: Promise<JetStreamManager> | undefined;

  const closed = nc.closed().then((err) => {
    if (err) onStatus?.({ type: 'closed', data: err });
  });

  return {
    nc,
    js,
    jsm() {
      manager ??= jetstreamManager(nc, { timeout: apiTimeout }).catch((err: unknown) => {
        manager = undefined;
        throw err;
      });
      return manager;
    },
    async close() {
      if (!nc.isClosed()) await nc.close();
      await closed;
    },
    async drain() {
      if (nc.isClosed()) return;
      if (nc.isDraining()) {
        await closed;
        return;
      }
      await nc.drain();
      await closed;
    },
    closed,
  };
}

async function forwardStatus(nc: NatsConnection, onStatus: (event: BusStatusEvent) => void): Promise<void> {
  try {
    for await (const status of nc.status()) {
      safely(onStatus, describeStatus(status));
    }
  } catch (err) {
    safely(onStatus, { type: 'statusError', data: err });
  }
}

function describeStatus(status: Status): BusStatusEvent {
  switch (status.type) {
    case 'disconnect':
    case 'reconnect':
    case 'ldm':
      return { type: status.type, data: { server: status.server } };
    case 'error':
      return { type: status.type, data: status.error };
    case 'slowConsumer':
      return { type: status.type, data: { subject: status.sub.getSubject(), pending: status.pending } };
    case 'update':
      return { type: status.type, data: { added: status.added, deleted: status.deleted } };
    case 'ping':
      return { type: status.type, data: { pendingPings: status.pendingPings } };
    case 'reconnecting':
    case 'staleConnection':
    case 'forceReconnect':
    case 'close':
    default:
      return { type: status.type };
  }
}

function safely(onStatus: (event: BusStatusEvent) => void, event: BusStatusEvent): void {
  try {
    onStatus(event);
  } catch {
    // a logging callback must never break the connection's status loop
  }
}
