import { BackendError, TransientError } from '@jetcel/core';

export interface CloudServer {
  id: string;
  name: string;
  settingsId: string;
  status: string;
  flavor: string;
  fault?: string;
}

export interface CloudVolume {
  id: string;
  name: string;
  settingsId: string;
  size: number;
  status: string;
  serverId: string | null;
  fault?: string;
}

export interface CloudSnapshot {
  id: string;
  serverId: string;
  name: string;
  status: string;
  size: number;
  /** ISO time the snapshot was started. */
  createdAt: string;
}

export interface CallOptions {
  signal: AbortSignal;
  idempotencyKey?: string;
  fencingToken?: string | null;
  /** The lease slot the fencing token belongs to. */
  fencingSlot?: string | null;
  /** Overrides the client's default timeout (slow synchronous calls). */
  timeoutMs?: number;
}

/** The backend said the object does not exist (a 404). */
export class NotAtBackendError extends BackendError {
  constructor(what: string) {
    super(`${what} does not exist at the backend`, { userMessage: 'Does not exist at backend.' });
  }
}

/** HTTP client of the simulated cloud; maps its answers to retryable and final task errors. */
export class CloudClient {
  constructor(
    private readonly baseUrl: string,
    private readonly timeoutMs = 10_000,
  ) {}

  createServer(body: { name: string; settingsId: string; flavor: string }, options: CallOptions): Promise<CloudServer> {
    return this.call<CloudServer>('POST', '/servers', options, body);
  }

  getServer(id: string, options: CallOptions): Promise<CloudServer> {
    return this.call<CloudServer>('GET', `/servers/${encodeURIComponent(id)}`, options);
  }

  renameServer(id: string, name: string, options: CallOptions): Promise<CloudServer> {
    return this.call<CloudServer>('PATCH', `/servers/${encodeURIComponent(id)}`, options, { name });
  }

  serverAction(
    id: string,
    action: { action: 'resize'; flavor: string } | { action: 'start' } | { action: 'stop' },
    options: CallOptions,
  ): Promise<CloudServer> {
    return this.call<CloudServer>('POST', `/servers/${encodeURIComponent(id)}/action`, options, action);
  }

  /** A server's snapshots (those in progress too), oldest first. */
  listSnapshots(serverId: string, options: CallOptions): Promise<CloudSnapshot[]> {
    return this.call<CloudSnapshot[]>('GET', `/servers/${encodeURIComponent(serverId)}/snapshots`, options);
  }

  deleteSnapshot(serverId: string, snapshotId: string, options: CallOptions): Promise<CloudSnapshot> {
    const path = `/servers/${encodeURIComponent(serverId)}/snapshots/${encodeURIComponent(snapshotId)}`;
    return this.call<CloudSnapshot>('DELETE', path, options);
  }

  /** A slow synchronous call: answers when the snapshot is complete (a heavy task). */
  createSnapshot(serverId: string, name: string, options: CallOptions): Promise<CloudSnapshot> {
    return this.call<CloudSnapshot>('POST', `/servers/${encodeURIComponent(serverId)}/snapshots`, options, { name });
  }

  deleteServer(id: string, options: CallOptions): Promise<CloudServer> {
    return this.call<CloudServer>('DELETE', `/servers/${encodeURIComponent(id)}`, options);
  }

  createVolume(
    body: { name: string; settingsId: string; size: number; serverId?: string },
    options: CallOptions,
  ): Promise<CloudVolume> {
    return this.call<CloudVolume>('POST', '/volumes', options, body);
  }

  getVolume(id: string, options: CallOptions): Promise<CloudVolume> {
    return this.call<CloudVolume>('GET', `/volumes/${encodeURIComponent(id)}`, options);
  }

  extendVolume(id: string, size: number, options: CallOptions): Promise<CloudVolume> {
    return this.call<CloudVolume>('POST', `/volumes/${encodeURIComponent(id)}/extend`, options, { size });
  }

  deleteVolume(id: string, options: CallOptions): Promise<CloudVolume> {
    return this.call<CloudVolume>('DELETE', `/volumes/${encodeURIComponent(id)}`, options);
  }

  private async call<T>(method: string, path: string, options: CallOptions, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (options.idempotencyKey) headers['idempotency-key'] = options.idempotencyKey;
    if (options.fencingToken) headers['fencing-token'] = options.fencingToken;
    if (options.fencingSlot) headers['fencing-slot'] = options.fencingSlot;
    let response: Response;
    try {
      response = await fetch(new URL(path, this.baseUrl), {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.any([options.signal, AbortSignal.timeout(options.timeoutMs ?? this.timeoutMs)]),
      });
    } catch (error) {
      if (options.signal.aborted) throw options.signal.reason;
      throw new TransientError(`Cloud ${method} ${path} failed: ${(error as Error).message}`, { cause: error });
    }
    const text = await response.text();
    const payload = parseBody(text);
    if (response.ok) return payload as T;
    const message = (payload as { error?: { message?: string } }).error?.message ?? `HTTP ${response.status}`;
    if (response.status === 404) throw new NotAtBackendError(`${method} ${path}`);
    // A refused fencing token means this holder lost its lease, not that the backend failed: retry,
    // and the next attempt takes the lease again before calling.
    if ((payload as { error?: { code?: string } }).error?.code === 'STALE_FENCING_TOKEN') {
      throw new TransientError(`Cloud ${method} ${path} refused a stale fencing token: ${message}`);
    }
    if (response.status >= 500 || response.status === 429) {
      throw new TransientError(`Cloud ${method} ${path} answered ${response.status}: ${message}`);
    }
    throw new BackendError(`Cloud ${method} ${path} answered ${response.status}: ${message}`, { userMessage: message });
  }
}

function parseBody(text: string): unknown {
  if (!text) return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return { error: { message: text.slice(0, 200) } };
  }
}
