import { randomUUID } from 'node:crypto';
import { BackendError, TransientError } from '@jetcel/core';

/** A zone as the provider reports it. */
export interface ProviderZone {
  id: string;
  status: 'PENDING' | 'ACTIVE' | 'ERROR';
  /** Why the zone is in ERROR. */
  fault?: string;
}

/** What every call carries from its step: abort, the step's idempotency key and the lease's fencing. */
export interface ProviderCallOptions {
  signal?: AbortSignal;
  idempotencyKey?: string;
  fencingToken?: string | null;
  fencingSlot?: string | null;
}

/** Failure and latency knobs; a test changes them on the provider it holds (`provider.knobs`). */
export interface ProviderKnobs {
  /** Each call waits this long first. */
  latencyMs: number;
  /** A new zone turns ACTIVE this long after its creation. */
  activateAfterMs: number;
  /** When set, every create is refused with this message. */
  refuseCreates: string | null;
}

export const DEFAULT_KNOBS: ProviderKnobs = { latencyMs: 0, activateAfterMs: 300, refuseCreates: null };

interface StoredZone extends ProviderZone {
  createdAt: number;
}

/** A zone id carries its creation time, so every process's provider agrees on a zone's status. */
const ZONE_ID = /^zone-([0-9a-z]+)-[0-9a-f]{8}$/;

/**
 * An in-process DNS provider, the example domain's backend: zones are PENDING, then ACTIVE after
 * `activateAfterMs`. Each worker process has its own, so a zone's id carries its creation time and
 * any process's provider answers for a zone another one created (deletes and `breakZone` stay local). A create repeated with the same idempotency key returns the same zone, and a
 * call carrying a fencing token older than one already seen for its slot is refused (a stale
 * lease holder), the checks a real provider client would make.
 */
export class FakeDnsProvider {
  readonly knobs: ProviderKnobs;
  readonly #zones = new Map<string, StoredZone>();
  readonly #byIdempotencyKey = new Map<string, string>();
  readonly #newestToken = new Map<string, bigint>();
  readonly #deleted = new Set<string>();

  constructor(knobs: Partial<ProviderKnobs> = {}) {
    this.knobs = { ...DEFAULT_KNOBS, ...knobs };
  }

  async createZone(name: string, options: ProviderCallOptions = {}): Promise<ProviderZone> {
    await this.#enter(options);
    const known = options.idempotencyKey && this.#byIdempotencyKey.get(options.idempotencyKey);
    if (known) return this.#view(this.#require(known));
    if (this.knobs.refuseCreates !== null) throw new BackendError(`zone ${name}: ${this.knobs.refuseCreates}`);
    const createdAt = Date.now();
    const id = `zone-${createdAt.toString(36)}-${randomUUID().slice(0, 8)}`;
    const zone: StoredZone = { id, status: 'PENDING', createdAt };
    this.#zones.set(zone.id, zone);
    if (options.idempotencyKey) this.#byIdempotencyKey.set(options.idempotencyKey, zone.id);
    return this.#view(zone);
  }

  async getZone(id: string, options: ProviderCallOptions = {}): Promise<ProviderZone> {
    await this.#enter(options);
    return this.#view(this.#require(id));
  }

  async deleteZone(id: string, options: ProviderCallOptions = {}): Promise<void> {
    await this.#enter(options);
    this.#zones.delete(id);
    this.#deleted.add(id);
  }

  /** Puts a zone in ERROR (a test of the pull). */
  breakZone(id: string, fault: string): void {
    const zone = this.#require(id);
    zone.status = 'ERROR';
    zone.fault = fault;
  }

  zones(): ProviderZone[] {
    return [...this.#zones.values()].map((zone) => this.#view(zone));
  }

  #require(id: string): StoredZone {
    const known = this.#zones.get(id);
    if (known) return known;
    const created = ZONE_ID.exec(id)?.[1];
    if (created === undefined || this.#deleted.has(id))
      throw new BackendError(`zone ${id} does not exist at the provider`);
    const zone: StoredZone = { id, status: 'PENDING', createdAt: parseInt(created, 36) };
    this.#zones.set(id, zone);
    return zone;
  }

  #view(zone: StoredZone): ProviderZone {
    if (zone.status === 'PENDING' && Date.now() - zone.createdAt >= this.knobs.activateAfterMs) zone.status = 'ACTIVE';
    const { createdAt: _createdAt, ...view } = zone;
    return view;
  }

  async #enter(options: ProviderCallOptions): Promise<void> {
    if (this.knobs.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, this.knobs.latencyMs));
    if (options.signal?.aborted) throw new TransientError('the call was aborted');
    if (!options.fencingToken || !options.fencingSlot || !/^\d+$/.test(options.fencingToken)) return;
    const token = BigInt(options.fencingToken);
    const newest = this.#newestToken.get(options.fencingSlot) ?? 0n;
    if (token < newest)
      throw new BackendError(`stale fencing token ${token} for ${options.fencingSlot} (newest is ${newest})`);
    this.#newestToken.set(options.fencingSlot, token);
  }
}

/** The provider's knobs from the environment (DNS_PROVIDER_LATENCY_MS, DNS_PROVIDER_ACTIVATE_MS, DNS_PROVIDER_REFUSE_CREATES). */
export function providerKnobsFromEnv(env: NodeJS.ProcessEnv): ProviderKnobs {
  return {
    latencyMs: Number(env.DNS_PROVIDER_LATENCY_MS ?? DEFAULT_KNOBS.latencyMs),
    activateAfterMs: Number(env.DNS_PROVIDER_ACTIVATE_MS ?? DEFAULT_KNOBS.activateAfterMs),
    refuseCreates: env.DNS_PROVIDER_REFUSE_CREATES || null,
  };
}
