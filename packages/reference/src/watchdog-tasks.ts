import { defineTask, done, type RelatedPatch, type TaskOutcome } from '@jetcel/core';
import type { BackgroundConfig } from './background-config.ts';
import type { ReferenceServices } from './services.ts';

export const WATCHDOG_TASKS = {
  stuckProvisioning: 'jetcel.stuck_provisioning',
  resetUpdating: 'jetcel.reset_updating',
  heartbeatTick: 'jetcel.heartbeat_tick',
} as const;

/** The resource types the watchdogs look after. */
const WATCHED_TYPES = ['instance', 'volume'] as const;
const FINISHED = new Set(['succeeded', 'failed', 'cancelled']);
export const PROVISIONING_TIMED_OUT = 'Provisioning has timed out.';

/**
 * Waldur's SetErredStuckResources: resources CREATING or CREATION_SCHEDULED
 * not modified for longer than the limit become ERRED "Provisioning has timed out.", and the
 * execution still running on each is cancelled (its failure handler keeps that error).
 */
export function stuckProvisioningTask(config: Pick<BackgroundConfig, 'provisioningTimeoutMs'>) {
  return defineTask<unknown, ReferenceServices>({
    name: WATCHDOG_TASKS.stuckProvisioning,
    queue: 'background',
    equality: 'name',
    sideEffects: false,
    retry: { maxAttempts: 3, initialDelayMs: 1000 },
    async run(ctx): Promise<TaskOutcome> {
      const modifiedBefore = new Date(Date.now() - config.provisioningTimeoutMs);
      const also: RelatedPatch[] = [];
      const cancel: string[] = [];
      for (const type of WATCHED_TYPES) {
        const stuck = await ctx.resources.find(
          type,
          {},
          { states: ['CREATING', 'CREATION_SCHEDULED'], modifiedBefore },
        );
        for (const resource of stuck) {
          const ref = `${type}:${resource.id}`;
          also.push({
            ref,
            version: resource.version,
            patch: { transition: 'set_erred', errorMessage: PROVISIONING_TIMED_OUT, errorTraceback: '' },
          });
          const latest = await ctx.resources.latestExecution(ref);
          if (latest?.status === 'running') cancel.push(latest.id);
        }
      }
      if (also.length > 0) ctx.log.warn('stuck provisioning timed out', { resources: also.map((entry) => entry.ref) });
      return { kind: 'done', also, cancel, result: { erred: also.length, cancelled: cancel.length } };
    },
  });
}

/**
 * Waldur's reset_updating_resources: resources UPDATING whose latest execution
 * has finished (or that have none) return to OK; those with a live execution stay UPDATING.
 */
export const resetUpdatingTask = defineTask<unknown, ReferenceServices>({
  name: WATCHDOG_TASKS.resetUpdating,
  queue: 'background',
  equality: 'name',
  sideEffects: false,
  retry: { maxAttempts: 3, initialDelayMs: 1000 },
  async run(ctx) {
    const also: RelatedPatch[] = [];
    for (const type of WATCHED_TYPES) {
      for (const resource of await ctx.resources.find(type, {}, { states: ['UPDATING'] })) {
        const ref = `${type}:${resource.id}`;
        const latest = await ctx.resources.latestExecution(ref);
        if (latest && !FINISHED.has(latest.status)) continue;
        also.push({ ref, version: resource.version, patch: { transition: 'set_ok' } });
      }
    }
    if (also.length > 0) ctx.log.info('stuck UPDATING resources reset to OK', { resources: also.map((e) => e.ref) });
    return done(undefined, { reset: also.length }, also);
  },
});

/** Test only: a background task with no equality that records each run. */
export const heartbeatTickTask = defineTask<unknown, ReferenceServices>({
  name: WATCHDOG_TASKS.heartbeatTick,
  queue: 'background',
  equality: 'none',
  sideEffects: false,
  retry: { maxAttempts: 1 },
  async run() {
    return done(undefined, { at: new Date().toISOString() });
  },
});
