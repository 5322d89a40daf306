import { CloudContext, type CloudContextOptions } from './cloud-context.ts';
import { ServerFleet } from './servers.ts';
import { SnapshotStore } from './snapshots.ts';
import { VolumeStore } from './volumes.ts';
import type {
  Barrier,
  BarrierInput,
  CloudDelays,
  CloudStats,
  FaultRule,
  FaultRuleInput,
  ReleasedBarriers,
} from './types.ts';

export type CloudStateOptions = CloudContextOptions;

/**
 * The whole simulated cloud, in memory and without HTTP: servers, volumes,
 * server snapshots, idempotency keys, fencing tokens, stats, fault rules, barriers and pending timers.
 * Operations throw CloudError (or HangRequest for an injected timeout).
 */
export class CloudState {
  readonly #ctx: CloudContext;
  readonly servers: ServerFleet;
  readonly volumes: VolumeStore;
  readonly snapshots: SnapshotStore;

  constructor(options: CloudStateOptions = {}) {
    this.#ctx = new CloudContext(options);
    this.servers = new ServerFleet(this.#ctx);
    this.volumes = new VolumeStore(this.#ctx, (id) => this.servers.has(id));
    this.snapshots = new SnapshotStore(this.#ctx, (id) => this.servers.peek(id));
  }

  get delays(): CloudDelays {
    return { ...this.#ctx.delays };
  }

  /** Changes delays for operations started from now on. */
  configure(patch: Partial<CloudDelays>): CloudDelays {
    this.#ctx.delays = { ...this.#ctx.delays, ...patch };
    return this.delays;
  }

  addFault(input: FaultRuleInput): FaultRule {
    return this.#ctx.faults.add(input);
  }

  listFaults(): FaultRule[] {
    return this.#ctx.faults.list();
  }

  /** Removes every fault rule; returns how many there were. */
  clearFaults(): number {
    return this.#ctx.faults.clear();
  }

  addBarrier(input: BarrierInput): Barrier {
    return this.#ctx.barriers.add(input);
  }

  listBarriers(): Barrier[] {
    return this.#ctx.barriers.list();
  }

  /** Removes every barrier and lets everything they held complete, all in the same tick. */
  releaseBarriers(): ReleasedBarriers {
    return this.#ctx.barriers.releaseAll();
  }

  stats(): CloudStats {
    return this.#ctx.stats.snapshot(this.#ctx.barriers.size);
  }

  /** Resets peaks to the current build / snapshot levels and counters to zero. */
  resetStats(): void {
    this.#ctx.stats.reset();
  }

  countRequest(): void {
    this.#ctx.stats.countRequest();
  }

  /** Highest fencing token seen for a lease slot. */
  fencingToken(slot: string): number | undefined {
    return this.#ctx.fencing.highest(slot);
  }

  /** Number of pending build / delete / action / snapshot timers. */
  get pendingTimers(): number {
    return this.#ctx.timers.size;
  }

  /**
   * Wipes everything except the delays: servers, volumes, snapshots, keys, fencing, faults, barriers,
   * stats, timers. Snapshot requests still waiting fail with 404 NOT_FOUND.
   */
  reset(): void {
    this.#ctx.timers.clear();
    this.#ctx.barriers.clear();
    this.servers.clear();
    this.volumes.clear();
    this.snapshots.clear();
    this.#ctx.faults.clear();
    this.#ctx.fencing.clear();
    this.#ctx.stats.clear();
  }

  /**
   * Cancels pending timers and drops held operations; nothing changes state afterwards
   * (snapshots in progress never complete, and their requests are never answered).
   */
  dispose(): void {
    this.#ctx.timers.clear();
    this.#ctx.barriers.clear();
  }
}
