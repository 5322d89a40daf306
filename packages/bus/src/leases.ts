// Throttle leases in NATS KV: slot keys `<kind>.<scope>.<slot>`, bucket TTL, renewal by revision CAS.
import { LEASES_BUCKET, leaseKey } from '@jetcel/contracts';
import { Kvm, type KV } from '@nats-io/kv';
import type { Bus } from './connection.ts';
import { BusError } from './errors.ts';
import { bucketEntries } from './operator-stats.ts';

/** Who holds a lease: the execution, and a token unique to this acquisition. */
export interface LeaseHolder {
  executionId: string;
  token: string;
}

/** A lease as its holder knows it; the revision is the fencing token. */
export interface HeldLease {
  key: string;
  revision: number;
}

export interface LeaseEntry extends HeldLease {
  holder: LeaseHolder | null;
}

const encode = (holder: LeaseHolder): string => JSON.stringify(holder);

function decode(value: Uint8Array | undefined): LeaseHolder | null {
  if (!value || value.length === 0) return null;
  try {
    const parsed = JSON.parse(Buffer.from(value).toString('utf8')) as Partial<LeaseHolder>;
    return typeof parsed.executionId === 'string' && typeof parsed.token === 'string'
      ? { executionId: parsed.executionId, token: parsed.token }
      : null;
  } catch {
    return null;
  }
}

const isWrongSequence = (error: unknown): boolean =>
  error instanceof Error && /wrong last sequence|key exists/i.test(error.message);

/**
 * At most `limit` live slot keys per kind and scope. Every ambiguous outcome (a timeout, a lost
 * reply) is settled by reading the key and comparing the holder's token before concluding.
 */
export class Leases {
  /** KV reads made so far (a test hook: admission to a full scope must read none). */
  reads = 0;

  private constructor(private readonly kv: KV) {}

  static async open(bus: Bus, bucket: string = LEASES_BUCKET): Promise<Leases> {
    try {
      return new Leases(await new Kvm(bus.nc).open(bucket, { bindOnly: true }));
    } catch (error) {
      throw new BusError(`Lease bucket ${bucket} is not available (run the topology job)`, { cause: error });
    }
  }

  /**
   * The live slots of this kind and scope below `limit`, read key by key (a listing would create a
   * consumer per call: slow with many leases, and unreliable on 2.9.10 with a cluster node down).
   */
  async occupancy(kind: string, scope: string, limit: number): Promise<LeaseEntry[]> {
    const slots = Array.from({ length: limit }, (_, slot) => leaseKey(kind, scope, slot));
    const entries = await Promise.all(slots.map(async (key) => ({ key, entry: await this.get(key) })));
    return entries
      .filter(({ entry }) => entry !== null && entry.operation === 'PUT')
      .map(({ key, entry }) => ({ key, revision: entry?.revision ?? 0, holder: decode(entry?.value) }));
  }

  /** Takes a free slot below `limit`, or returns null when the scope is full. */
  async acquire(
    kind: string,
    scope: string,
    limit: number,
    holder: LeaseHolder,
    live?: LeaseEntry[],
  ): Promise<HeldLease | null> {
    const current = live ?? (await this.occupancy(kind, scope, limit));
    const own = current.find(
      (entry) => entry.holder?.executionId === holder.executionId && entry.holder.token === holder.token,
    );
    if (own) return { key: own.key, revision: own.revision };
    if (current.length >= limit) return null;
    const taken = new Set(current.map((entry) => entry.key));
    // Racers start at different slots: two creates with the same expected revision can both be
    // stored on a clustered nats-server before 2.9.21 (nats-server#4320), so they rarely meet.
    const start = Math.floor(Math.random() * limit);
    for (let offset = 0; offset < limit; offset += 1) {
      const key = leaseKey(kind, scope, (start + offset) % limit);
      if (taken.has(key)) continue;
      const revision = await this.tryCreate(key, holder);
      if (revision !== null) return { key, revision };
    }
    return null;
  }

  /**
   * Writes `holder` over the lease by compare-and-set on the revision; returns the new lease, or
   * null when it was lost. The same holder renews it; another holder takes it over (`transfer`).
   */
  async renew(lease: HeldLease, holder: LeaseHolder): Promise<HeldLease | null> {
    try {
      return { key: lease.key, revision: await this.kv.update(lease.key, encode(holder), lease.revision) };
    } catch (error) {
      // A timed-out update may have been applied: read the key before concluding anything.
      const revision = await this.revisionHeldBy(lease.key, holder.token);
      if (revision === null) return null;
      if (isWrongSequence(error)) return this.renew({ key: lease.key, revision }, holder);
      return { key: lease.key, revision };
    }
  }

  /**
   * Hands a held slot straight to another holder (compare-and-set on the revision): the slot is
   * never free in between, so no newcomer can take it first. Null when the lease was lost.
   */
  async transfer(lease: HeldLease, to: LeaseHolder): Promise<HeldLease | null> {
    return this.renew(lease, to);
  }

  /** Releases a lease this holder still holds; true if it was released now. */
  async release(lease: HeldLease, holder: LeaseHolder): Promise<boolean> {
    const revision = await this.revisionHeldBy(lease.key, holder.token);
    if (revision === null) return false;
    try {
      await this.kv.delete(lease.key, { previousSeq: revision });
      return true;
    } catch (error) {
      if (isWrongSequence(error)) return false;
      throw new BusError(`Could not release lease ${lease.key}`, { cause: error });
    }
  }

  /** Deletes a key whatever its holder (the reconciler, for leases of finished executions). */
  async forceRelease(entry: LeaseEntry): Promise<boolean> {
    try {
      await this.kv.delete(entry.key, { previousSeq: entry.revision });
      return true;
    } catch (error) {
      if (isWrongSequence(error)) return false;
      throw error;
    }
  }

  /** Every live lease, for operators and the reconciler. */
  async entries(filter = '>'): Promise<LeaseEntry[]> {
    const keys = await this.kv.keys(filter);
    const entries: LeaseEntry[] = [];
    for await (const key of keys) {
      const entry = await this.get(key);
      if (entry && entry.operation === 'PUT')
        entries.push({ key, revision: entry.revision, holder: decode(entry.value) });
    }
    return entries;
  }

  /**
   * Takes the slot key that PostgreSQL assigned to this holder: created if free, kept if this
   * holder has it, else taken over by compare-and-set from a holder that no longer has the slot on
   * record (it ended its span, or stopped renewing). A key already held by the same execution is
   * left alone (null): it took the slot itself meanwhile. Null also when the races go on.
   */
  async take(key: string, holder: LeaseHolder): Promise<HeldLease | null> {
    for (let round = 0; round < 3; round += 1) {
      const created = await this.tryCreate(key, holder);
      if (created !== null) return { key, revision: created };
      const entry = await this.get(key);
      if (!entry || entry.operation !== 'PUT') continue;
      const current = decode(entry.value);
      if (current?.token === holder.token) return { key, revision: entry.revision };
      if (current?.executionId === holder.executionId) return null;
      try {
        return { key, revision: await this.kv.update(key, encode(holder), entry.revision) };
      } catch (error) {
        if (!isWrongSequence(error)) {
          const revision = await this.revisionHeldBy(key, holder.token);
          if (revision !== null) return { key, revision };
        }
      }
    }
    return null;
  }

  private get(key: string): ReturnType<KV['get']> {
    this.reads += 1;
    return this.kv.get(key);
  }

  private async tryCreate(key: string, holder: LeaseHolder): Promise<number | null> {
    try {
      return await this.kv.create(key, encode(holder));
    } catch (error) {
      if (isWrongSequence(error)) return null;
      return this.revisionHeldBy(key, holder.token);
    }
  }

  /** The key's revision if the holder with this token holds it now, else null (how every ambiguous outcome is settled). */
  private async revisionHeldBy(key: string, token: string): Promise<number | null> {
    const entry = await this.get(key);
    return entry && entry.operation === 'PUT' && decode(entry.value)?.token === token ? entry.revision : null;
  }
}

/** A live lease as an operator sees it: the key, its holder, its revision and when it was last written. */
export interface LeaseSnapshot extends LeaseEntry {
  writtenAt: string;
}

/** Every live lease of the bucket, without creating a consumer (stream info and message gets). */
export async function readLeases(bus: Bus, bucket: string = LEASES_BUCKET): Promise<LeaseSnapshot[]> {
  const entries = await bucketEntries(bus, bucket);
  return entries.map((entry) => ({
    key: entry.key,
    revision: entry.revision,
    writtenAt: entry.writtenAt,
    holder: decode(entry.value),
  }));
}
