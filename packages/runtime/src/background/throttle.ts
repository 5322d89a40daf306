import type { Logger, ResourceSnapshot, TaskDefinition } from '@jetcel/core';
import type { BackgroundRunRecord, BackgroundSlot, Db } from '@jetcel/db';
import { addBackgroundMessage } from './messages.ts';

export interface BackgroundThrottleConfig {
  /** Slots per scope of a kind where no `jetcel_throttle_limit` row says otherwise. */
  defaultLimitFor(kind: string): number;
  /** A slot whose holder has not renewed it for this long is free on record. @defaultValue 60000 */
  leaseTtlMs?: number;
  /** How soon a run that found its scope full looks again. @defaultValue 500 */
  recheckMs?: number;
}

/** Whether a claimed background run may run now: without a throttle, holding a slot, or parked to wait. */
export type BackgroundAdmission = { kind: 'free' } | { kind: 'slot'; slot: BackgroundSlot } | { kind: 'parked' };

/**
 * Background tasks that declare `throttle`: a run takes one of its scope's slots before it runs
 * (the slot rows executor spans use), renews it with its claim's heartbeat (the runner) and gives
 * it back when it has settled. A run that finds the scope full goes back to the queue, its attempt unused, and
 * looks again after `recheckMs`.
 */
export class BackgroundThrottle {
  readonly #leaseTtlMs: number;
  readonly #recheckMs: number;

  constructor(
    private readonly db: Db,
    private readonly config: BackgroundThrottleConfig,
  ) {
    this.#leaseTtlMs = config.leaseTtlMs ?? 60_000;
    this.#recheckMs = config.recheckMs ?? 500;
  }

  async admit<S>(
    task: TaskDefinition<unknown, S>,
    run: BackgroundRunRecord,
    token: string,
    resource: ResourceSnapshot | null,
    log: Logger,
  ): Promise<BackgroundAdmission> {
    const { throttle } = task;
    if (!throttle) return { kind: 'free' };
    let scope: string;
    try {
      scope = throttle.scope(task.parseArgs(run.args), resource);
    } catch {
      // Arguments its parser refuses: the run fails on them when it starts, holding nothing.
      return { kind: 'free' };
    }
    const admission = await this.db.transaction(async (tx): Promise<BackgroundAdmission> => {
      const entry = await tx.backgroundSlots.enter({
        kind: throttle.kind,
        scope,
        holder: run.id,
        defaultLimit: this.config.defaultLimitFor(throttle.kind),
        leaseTtlMs: this.#leaseTtlMs,
      });
      if (entry.kind === 'unthrottled') return { kind: 'free' };
      if (entry.kind === 'admitted') return { kind: 'slot', slot: entry.slot };
      const notBefore = new Date(Date.now() + this.#recheckMs);
      addBackgroundMessage(tx, await tx.backgroundRuns.park(run.id, token, { notBefore }), notBefore);
      return { kind: 'parked' };
    });
    if (admission.kind === 'parked')
      log.info('background run waits for a throttle slot', { kind: throttle.kind, scope, recheckMs: this.#recheckMs });
    else if (admission.kind === 'slot') log.debug('throttle slot taken', { ...admission.slot });
    return admission;
  }

  release(slot: BackgroundSlot): Promise<void> {
    return this.db.transaction((tx) => tx.backgroundSlots.release(slot));
  }
}
