import type { ServerResponse } from 'node:http';
import { startEventStream } from './http-io.ts';
import type { JetcelApi, ResourceEvent } from './jetcel.ts';
import { ReadableResources } from './readable.ts';
import type { Session, SessionStore } from './sessions.ts';

interface Client {
  readonly res: ServerResponse;
  readonly session: Session;
  /** Events are checked one after another per client, so each stream keeps the order they came in. */
  sending: Promise<void>;
}

/**
 * The live stream (GET /events, server-sent events): the events of resources the session's user may
 * read (see ReadableResources) as `resource`, and a
 * `tick` every refresh period on which pages re-query what they show (queue depths, leases and
 * execution steps change without a resource event). A stream whose session ends gets `logout` and
 * is closed.
 */
export class LiveHub {
  readonly #clients = new Set<Client>();
  readonly #unsubscribe: () => void;
  readonly #timer: NodeJS.Timeout;
  readonly #stopSessionWatch: () => void;
  readonly #readable: ReadableResources;

  constructor(
    api: JetcelApi,
    private readonly sessions: SessionStore,
    refreshMs: number,
    readableTtlMs?: number,
  ) {
    this.#readable = new ReadableResources(api, readableTtlMs);
    this.#unsubscribe = api.onEvent((event) => {
      for (const client of this.#clients) this.#send(client, event);
    });
    this.#timer = setInterval(() => this.#tick(), refreshMs);
    this.#timer.unref();
    this.#stopSessionWatch = sessions.onEnd((id) => {
      for (const client of this.#clients) if (client.session.id === id) this.#logout(client);
    });
  }

  attach(res: ServerResponse, session: Session): void {
    startEventStream(res);
    res.write('retry: 2000\n\n');
    const client: Client = { res, session, sending: Promise.resolve() };
    this.#clients.add(client);
    res.on('close', () => this.#clients.delete(client));
    write(res, 'hello', { user: session.user.username });
  }

  get size(): number {
    return this.#clients.size;
  }

  #send(client: Client, event: ResourceEvent): void {
    const user = { actor: client.session.user.username, roles: client.session.user.roles };
    const data = {
      resourceType: event.resourceType,
      resourceId: event.resourceId,
      from: event.from,
      to: event.to,
      executionId: event.executionId,
      at: event.at,
    };
    client.sending = client.sending
      .then(() => this.#readable.mayRead(user, event))
      .then((readable) => {
        if (readable) write(client.res, 'resource', data);
      })
      .catch(() => undefined);
  }

  #tick(): void {
    const now = new Date().toISOString();
    for (const client of this.#clients) {
      if (this.sessions.isLive(client.session)) write(client.res, 'tick', { at: now });
      else this.#logout(client);
    }
  }

  #logout(client: Client): void {
    write(client.res, 'logout', {});
    client.res.end();
    this.#clients.delete(client);
  }

  close(): void {
    this.#unsubscribe();
    this.#stopSessionWatch();
    clearInterval(this.#timer);
    for (const client of this.#clients) client.res.end();
    this.#clients.clear();
  }
}

function write(res: ServerResponse, event: string, data: unknown): void {
  if (res.writableEnded) return;
  res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}
