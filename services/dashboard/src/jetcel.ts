// The one module that talks to jetcel: commands and queries over NATS request-reply, each signed
// with the logged-in user's identity token, and the resource events. Nothing here reads PostgreSQL.
import { connectBus, requestJson, subscribeCore, BusError, type Bus } from '@jetcel/bus';
import {
  EVENTS_SUBJECTS,
  HEADERS,
  commandSubject,
  querySubject,
  replySchema,
  resourceEventSchema,
  type Reply,
  type ResourceEvent,
} from '@jetcel/contracts';
import { signIdentityToken, type Identity } from '@jetcel/identity';

export type { Reply, ResourceEvent };

export interface ExecutionFilter {
  status?: string;
  resourceType?: string;
  limit?: number;
}

/** What the dashboard asks of jetcel. Every call runs as `caller`, through the executor's authorization. */
export interface JetcelApi {
  listExecutions(caller: Identity, filter: ExecutionFilter): Promise<Reply>;
  getExecution(caller: Identity, id: string): Promise<Reply>;
  cancelExecution(caller: Identity, id: string): Promise<Reply>;
  listResources(caller: Identity, type: string, state?: string): Promise<Reply>;
  createInstance(caller: Identity, input: { name: string; cloudSettingsId: string }): Promise<Reply>;
  listDeadLetters(caller: Identity, filter: { pending?: boolean }): Promise<Reply>;
  redriveDeadLetter(caller: Identity, id: string): Promise<Reply>;
  queueStats(caller: Identity): Promise<Reply>;
  listLeases(caller: Identity): Promise<Reply>;
  listSchedules(caller: Identity): Promise<Reply>;
  /** Every resource event, as it is published; returns the unsubscribe function. */
  onEvent(listener: (event: ResourceEvent) => void): () => void;
  close(): Promise<void>;
}

/** Identity tokens are signed per request and live briefly: a leaked one is useless a minute later. */
const TOKEN_TTL_SECONDS = 60;
const REQUEST_TIMEOUT_MS = 5_000;

export class BusJetcelApi implements JetcelApi {
  private constructor(
    private readonly bus: Bus,
    private readonly secret: string,
  ) {}

  static async connect(options: {
    servers: string[];
    user?: string;
    pass?: string;
    secret: string;
    onStatus?: (event: { type: string; data?: unknown }) => void;
  }): Promise<BusJetcelApi> {
    const bus = await connectBus({
      servers: options.servers,
      name: 'dashboard',
      ...(options.user === undefined ? {} : { user: options.user }),
      ...(options.pass === undefined ? {} : { pass: options.pass }),
      ...(options.onStatus ? { onStatus: options.onStatus } : {}),
    });
    return new BusJetcelApi(bus, options.secret);
  }

  async #request(caller: Identity, subject: string, body: unknown): Promise<Reply> {
    const token = signIdentityToken(caller, this.secret, { ttlSeconds: TOKEN_TTL_SECONDS });
    let raw: unknown;
    try {
      raw = await requestJson(this.bus, subject, body, {
        timeoutMs: REQUEST_TIMEOUT_MS,
        headers: { [HEADERS.authorization]: `Bearer ${token}`, [HEADERS.actor]: caller.actor },
      });
    } catch (err) {
      if (err instanceof BusError)
        return {
          ok: false,
          error: { code: 'UNAVAILABLE', message: `jetcel did not answer: ${err.message}`, retryable: true },
        };
      throw err;
    }
    const reply = replySchema.safeParse(raw);
    if (!reply.success)
      return { ok: false, error: { code: 'INTERNAL', message: `Malformed reply on ${subject}`, retryable: false } };
    return reply.data;
  }

  listExecutions(caller: Identity, filter: ExecutionFilter): Promise<Reply> {
    return this.#request(caller, querySubject('execution', 'list'), filter);
  }
  getExecution(caller: Identity, id: string): Promise<Reply> {
    return this.#request(caller, querySubject('execution', 'get'), { id });
  }
  cancelExecution(caller: Identity, id: string): Promise<Reply> {
    return this.#request(caller, commandSubject('execution', 'cancel'), { id });
  }
  listResources(caller: Identity, type: string, state?: string): Promise<Reply> {
    return this.#request(caller, querySubject(type, 'list'), state === undefined ? {} : { state });
  }
  createInstance(caller: Identity, input: { name: string; cloudSettingsId: string }): Promise<Reply> {
    return this.#request(caller, commandSubject('instance', 'create'), input);
  }
  listDeadLetters(caller: Identity, filter: { pending?: boolean }): Promise<Reply> {
    return this.#request(caller, querySubject('dead_letter', 'list'), filter);
  }
  redriveDeadLetter(caller: Identity, id: string): Promise<Reply> {
    return this.#request(caller, commandSubject('dead_letter', 'redrive'), { id });
  }
  queueStats(caller: Identity): Promise<Reply> {
    return this.#request(caller, querySubject('queue', 'stats'), {});
  }
  listLeases(caller: Identity): Promise<Reply> {
    return this.#request(caller, querySubject('lease', 'list'), {});
  }
  listSchedules(caller: Identity): Promise<Reply> {
    return this.#request(caller, querySubject('schedule', 'list'), {});
  }

  onEvent(listener: (event: ResourceEvent) => void): () => void {
    return subscribeCore(this.bus, EVENTS_SUBJECTS, (message) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(new TextDecoder().decode(message.data));
      } catch {
        return; // not ours to judge: the dashboard only shows what it understands
      }
      const event = resourceEventSchema.safeParse(parsed);
      if (event.success) listener(event.data);
    });
  }

  async close(): Promise<void> {
    await this.bus.drain().catch(() => this.bus.close());
  }
}
