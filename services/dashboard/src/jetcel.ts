// The one module that talks to jetcel: @jetcel/client's typed commands and queries over NATS, each
// signed with the logged-in user's identity token, and the resource events. Nothing here reads
// PostgreSQL.
import { connectBus, type Bus, type BusStatusEvent } from '@jetcel/bus';
import { JetcelClient, JetcelClientError } from '@jetcel/client';
import { isErrorCode, type Reply, type ResourceEvent } from '@jetcel/contracts';
import { signIdentityToken, type Identity, type KeyRing } from '@jetcel/identity';

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
  /** Counts per type and state, and the newest resources of `type` (in `state`). */
  listResources(caller: Identity, filter: { type?: string; state?: string }): Promise<Reply>;
  /** One resource, if `caller` may read it (NOT_FOUND otherwise): what the live stream asks. */
  getResource(caller: Identity, type: string, id: string): Promise<Reply>;
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
const LIST_LIMIT = 100;

export class BusJetcelApi implements JetcelApi {
  readonly #client: JetcelClient;

  private constructor(
    private readonly bus: Bus,
    private readonly keys: KeyRing | string,
  ) {
    this.#client = JetcelClient.fromBus(bus);
  }

  static async connect(options: {
    servers: string[];
    user?: string;
    pass?: string;
    /** Identity keys (a plain secret is the one key "default"); the newest signs. */
    keys: KeyRing | string;
    onStatus?: (event: BusStatusEvent) => void;
  }): Promise<BusJetcelApi> {
    const bus = await connectBus({
      servers: options.servers,
      name: 'dashboard',
      ...(options.user === undefined ? {} : { user: options.user }),
      ...(options.pass === undefined ? {} : { pass: options.pass }),
      ...(options.onStatus ? { onStatus: options.onStatus } : {}),
    });
    return new BusJetcelApi(bus, options.keys);
  }

  /** Runs `call` on a client that speaks as `caller`, and turns its outcome into a reply envelope. */
  async #as(caller: Identity, call: (client: JetcelClient) => Promise<unknown>): Promise<Reply> {
    const client = JetcelClient.fromBus(this.bus, {
      token: await signIdentityToken(caller, this.keys, { ttlSeconds: TOKEN_TTL_SECONDS }),
      actor: caller.actor,
      timeoutMs: REQUEST_TIMEOUT_MS,
    });
    try {
      return { ok: true, data: await call(client) };
    } catch (err) {
      if (!(err instanceof JetcelClientError)) throw err;
      if (err.kind === 'reply' && isErrorCode(err.code))
        return {
          ok: false,
          error: {
            code: err.code,
            message: err.message,
            retryable: err.retryable,
            ...(err.details === undefined ? {} : { details: err.details }),
          },
        };
      return {
        ok: false,
        error: { code: 'UNAVAILABLE', message: `jetcel did not answer: ${err.message}`, retryable: true },
      };
    }
  }

  listExecutions(caller: Identity, filter: ExecutionFilter): Promise<Reply> {
    return this.#as(caller, async (client) => ({
      // the executor validates the status (an unknown one is VALIDATION_FAILED)
      items: await client.listExecutions(filter as Parameters<JetcelClient['listExecutions']>[0]),
    }));
  }
  getExecution(caller: Identity, id: string): Promise<Reply> {
    return this.#as(caller, (client) => client.getExecution(id));
  }
  cancelExecution(caller: Identity, id: string): Promise<Reply> {
    return this.#as(caller, (client) => client.cancelExecution(id));
  }
  listResources(caller: Identity, filter: { type?: string; state?: string }): Promise<Reply> {
    return this.#as(caller, (client) => client.listResources({ ...filter, limit: LIST_LIMIT }));
  }
  getResource(caller: Identity, type: string, id: string): Promise<Reply> {
    return this.#as(caller, (client) => client.getResource(type, id));
  }
  createInstance(caller: Identity, input: { name: string; cloudSettingsId: string }): Promise<Reply> {
    return this.#as(caller, (client) => client.request('cmd.instance.create', input));
  }
  listDeadLetters(caller: Identity, filter: { pending?: boolean }): Promise<Reply> {
    return this.#as(caller, async (client) => ({
      items: await client.listDeadLetters({ ...filter, limit: LIST_LIMIT }),
    }));
  }
  redriveDeadLetter(caller: Identity, id: string): Promise<Reply> {
    return this.#as(caller, (client) => client.redriveDeadLetter(id));
  }
  queueStats(caller: Identity): Promise<Reply> {
    return this.#as(caller, (client) => client.queueStats());
  }
  listLeases(caller: Identity): Promise<Reply> {
    return this.#as(caller, (client) => client.listLeases());
  }
  listSchedules(caller: Identity): Promise<Reply> {
    return this.#as(caller, (client) => client.listSchedules());
  }

  onEvent(listener: (event: ResourceEvent) => void): () => void {
    const tail = this.#client.tailEvents();
    void (async () => {
      for await (const { event } of tail) if (event) listener(event);
    })();
    return () => tail.stop();
  }

  async close(): Promise<void> {
    await this.bus.drain().catch(() => this.bus.close());
  }
}
