import { failAfter, type CloudContext } from './cloud-context.ts';
import { invalidState, notFound } from './errors.ts';
import { faultFailure } from './faults.ts';
import { IdempotencyBook } from './idempotency.ts';
import { delayReply } from './reply-delay.ts';
import type { CreateSnapshotInput, FaultRule, RequestContext, Server, Snapshot } from './types.ts';

/** Root disk (GiB) of the usual OpenStack flavors; a snapshot is that big. */
const FLAVOR_DISK_GIB: Readonly<Record<string, number>> = {
  'm1.tiny': 1,
  'm1.small': 20,
  'm1.medium': 40,
  'm1.large': 80,
  'm1.xlarge': 160,
};
/** Size of a snapshot of any other flavor. */
const DEFAULT_DISK_GIB = 20;

interface Completion {
  resolve: () => void;
  reject: (error: Error) => void;
}

interface SnapshotRecord {
  snapshot: Snapshot;
  /** The settings of the server when the snapshot started (the stats are counted there). */
  settingsId: string;
  timer: NodeJS.Timeout | null;
  /** Resolves when the snapshot is available; rejects when a reset wipes it first. */
  done: Promise<void>;
  /** Set while the snapshot is in progress. */
  pending: Completion | null;
}

export interface CreatedSnapshot {
  /** False when the Idempotency-Key was seen before and the existing snapshot is returned. */
  created: boolean;
  snapshot: Snapshot;
}

function view(record: SnapshotRecord): Snapshot {
  return { ...record.snapshot };
}

/** What a fired 'snapshot' fault rule leaves to do once the request is let through. */
interface SnapshotFault {
  /** Mode 'delay': how much longer the snapshot takes (or, for a replay, how long its reply is held). */
  extraMs: number;
  /** An `applied` rule: the snapshot is taken, then the reply fails anyway. */
  lostReply: FaultRule | null;
}

/**
 * Server snapshots: a slow synchronous call. `create` settles only once the
 * snapshot is complete, `snapshotDelayMs` after it started. A snapshot goes on
 * whatever happens to the request that started it (a client that goes away,
 * the server being deleted meanwhile); only a reset or dispose stops it.
 */
export class SnapshotStore {
  readonly #ctx: CloudContext;
  readonly #records = new Map<string, SnapshotRecord>();
  readonly #keys = new IdempotencyBook<SnapshotRecord>();
  readonly #findServer: (id: string) => Server | undefined;

  /** `findServer` looks a server up as it is now, without fault injection. */
  constructor(ctx: CloudContext, findServer: (id: string) => Server | undefined) {
    this.#ctx = ctx;
    this.#findServer = findServer;
  }

  /**
   * Takes a snapshot of an ACTIVE or SHUTOFF server and resolves once it is
   * available. A repeated Idempotency-Key starts nothing: it resolves with the
   * same snapshot, at once if it is complete, otherwise when it completes.
   */
  async create(serverId: string, input: CreateSnapshotInput, request: RequestContext = {}): Promise<CreatedSnapshot> {
    this.#ctx.fencing.check(request.fencing);
    const server = this.#findServer(serverId);
    const fault = this.#injectFault(server?.settingsId ?? null);
    const key = request.idempotencyKey;
    const fingerprint = JSON.stringify([serverId, input.name]);
    const known = key === undefined ? undefined : this.#keys.find(key, 'snapshot', fingerprint);
    if (known !== undefined) {
      // Nothing new to slow down: a delay rule holds the reply back instead.
      delayReply(fault.extraMs);
      await known.done;
      return failAfter(fault.lostReply, { created: false, snapshot: view(known) });
    }
    if (server === undefined) throw notFound('server', serverId);
    if (server.status !== 'ACTIVE' && server.status !== 'SHUTOFF') {
      throw invalidState(`cannot snapshot server ${serverId} while it is ${server.status}`);
    }

    const record = this.#start(server, input.name, fault.extraMs);
    if (key !== undefined) this.#keys.remember(key, 'snapshot', fingerprint, record);
    await record.done;
    return failAfter(fault.lostReply, { created: true, snapshot: view(record) });
  }

  /** Snapshots of a server (those in progress included, as 'creating'), oldest first. */
  list(serverId: string): Snapshot[] {
    const server = this.#findServer(serverId);
    this.#ctx.inject('get', 'server', server?.settingsId ?? null);
    if (server === undefined) throw notFound('server', serverId);
    const snapshots: Snapshot[] = [];
    for (const record of this.#records.values()) {
      if (record.snapshot.serverId === serverId) snapshots.push(view(record));
    }
    return snapshots;
  }

  /** Deletes an available snapshot of a server (one still in progress: 409 INVALID_STATE). */
  delete(serverId: string, snapshotId: string): Snapshot {
    const record = this.#records.get(snapshotId);
    if (record === undefined || record.snapshot.serverId !== serverId) throw notFound('snapshot', snapshotId);
    if (record.pending !== null) throw invalidState(`snapshot ${snapshotId} is still being created`);
    this.#records.delete(snapshotId);
    return view(record);
  }

  /**
   * Forgets every snapshot and idempotency key (timers are cleared by the caller);
   * requests waiting for a snapshot in progress fail with 404 NOT_FOUND.
   */
  clear(): void {
    for (const record of this.#records.values()) {
      record.pending?.reject(notFound('snapshot', record.snapshot.id));
      record.pending = null;
    }
    this.#records.clear();
    this.#keys.clear();
  }

  /**
   * Fires the first 'snapshot' fault rule matching the server. `error`, `http500` and
   * `timeout` fail the request right away unless the rule is `applied`.
   */
  #injectFault(settingsId: string | null): SnapshotFault {
    const rule = this.#ctx.faults.take('snapshot', 'server', settingsId);
    if (rule === null) return { extraMs: 0, lostReply: null };
    if (rule.mode === 'delay') return { extraMs: rule.delayMs ?? 0, lostReply: null };
    if (!rule.applied) throw faultFailure(rule);
    return { extraMs: 0, lostReply: rule };
  }

  #start(server: Server, name: string, extraMs: number): SnapshotRecord {
    // The executor runs at once, so both settlers are the real ones before anything can call them.
    const pending: Completion = { resolve: () => undefined, reject: () => undefined };
    const done = new Promise<void>((resolve, reject) => {
      pending.resolve = resolve;
      pending.reject = reject;
    });
    // Every request for the snapshot awaits `done`; this keeps a wiped snapshot nobody waits for quiet.
    done.catch(() => undefined);

    const record: SnapshotRecord = {
      snapshot: {
        id: this.#ctx.newId(),
        serverId: server.id,
        name,
        status: 'creating',
        size: FLAVOR_DISK_GIB[server.flavor] ?? DEFAULT_DISK_GIB,
        createdAt: this.#ctx.timestamp(),
      },
      settingsId: server.settingsId,
      timer: null,
      done,
      pending,
    };
    this.#records.set(record.snapshot.id, record);
    this.#ctx.stats.snapshotStarted(record.settingsId);
    record.timer = this.#ctx.timers.schedule(this.#ctx.delays.snapshotDelayMs + extraMs, () => {
      record.timer = null;
      record.snapshot.status = 'available';
      this.#ctx.stats.snapshotCompleted(record.settingsId);
      record.pending?.resolve();
      record.pending = null;
    });
    return record;
  }
}
