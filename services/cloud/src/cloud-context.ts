import { randomUUID } from 'node:crypto';
import { BarrierBook } from './barriers.ts';
import { FaultBook, faultFailure } from './faults.ts';
import { FencingBook } from './fencing.ts';
import { delayReply } from './reply-delay.ts';
import { StatsBook } from './stats.ts';
import { TimerSet } from './timers.ts';
import type { CloudDelays, FaultOp, FaultResource, FaultRule } from './types.ts';

export const DEFAULT_DELAYS: CloudDelays = {
  buildDelayMs: 3000,
  deleteDelayMs: 1000,
  actionDelayMs: 2000,
  snapshotDelayMs: 5000,
};

export interface CloudContextOptions extends Partial<CloudDelays> {
  /** Clock for createdAt / updatedAt (default: the wall clock). */
  now?: () => Date;
  /** Id generator (default: random UUIDs). */
  newId?: () => string;
}

/** What the server and volume models share: delays, clock, faults, barriers, fencing, stats and timers. */
export class CloudContext {
  readonly faults = new FaultBook();
  readonly barriers = new BarrierBook((completions) => this.#atOnce(completions));
  readonly stats = new StatsBook();
  readonly fencing = new FencingBook(() => this.stats.countFencingRefusal());
  readonly timers = new TimerSet();
  delays: CloudDelays;
  readonly #now: () => Date;
  readonly newId: () => string;
  /** Set while a batch of completions runs, so that they all get the same timestamp. */
  #frozen: string | undefined;

  constructor(options: CloudContextOptions = {}) {
    this.delays = {
      buildDelayMs: options.buildDelayMs ?? DEFAULT_DELAYS.buildDelayMs,
      deleteDelayMs: options.deleteDelayMs ?? DEFAULT_DELAYS.deleteDelayMs,
      actionDelayMs: options.actionDelayMs ?? DEFAULT_DELAYS.actionDelayMs,
      snapshotDelayMs: options.snapshotDelayMs ?? DEFAULT_DELAYS.snapshotDelayMs,
    };
    this.#now = options.now ?? (() => new Date());
    this.newId = options.newId ?? randomUUID;
  }

  timestamp(): string {
    return this.#frozen ?? this.#now().toISOString();
  }

  /** Runs completions released together in one synchronous loop, at one frozen instant. */
  #atOnce(completions: readonly (() => void)[]): void {
    const outer = this.#frozen;
    this.#frozen = this.timestamp();
    try {
      for (const complete of completions) complete();
    } finally {
      this.#frozen = outer;
    }
  }

  /**
   * Fires the first fault rule matching the request. A plain rule fails the
   * request right away (throws); an `applied` rule is returned so that the
   * caller does the work first and then fails with `failAfter`. A `delay` rule
   * lets the request go through and holds back its HTTP reply (see reply-delay.ts).
   */
  inject(op: FaultOp, resource: FaultResource, settingsId: string | null): FaultRule | null {
    const rule = this.faults.take(op, resource, settingsId);
    if (rule === null) return null;
    if (rule.mode === 'delay') {
      delayReply(rule.delayMs ?? 0);
      return null;
    }
    if (!rule.applied) throw faultFailure(rule);
    return rule;
  }
}

/** Returns `value`, unless an `applied` fault rule fired: then its failure is thrown instead. */
export function failAfter<T>(rule: FaultRule | null, value: T): T {
  if (rule !== null) throw faultFailure(rule);
  return value;
}
