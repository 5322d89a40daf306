import { z } from 'zod';
import { defineTask, done, type RelatedPatch, type ResourceReader, type TaskOutcome } from '@jetcel/core';

export const WATCHDOG_TASKS = {
  stuckProvisioning: 'jetcel.stuck_provisioning',
  resetUpdating: 'jetcel.reset_updating',
} as const;

export const PROVISIONING_TIMED_OUT = 'Provisioning has timed out.';
/** @defaultValue 3 h, Waldur's */
export const DEFAULT_PROVISIONING_TIMEOUT_MS = 3 * 60 * 60_000;
const FINISHED = new Set(['succeeded', 'failed', 'cancelled']);

const watchdogArgs = z.object({
  /** Only these resource types; by default every type the worker's domains register. */
  types: z.array(z.string().min(1)).optional(),
  /** Stuck provisioning: untouched for longer than this. */
  timeoutMs: z.number().int().nonnegative().optional(),
});

/** The types a watchdog run looks after: those asked for, else every registered resource type. */
function watchedTypes(resources: ResourceReader, asked: string[] | undefined): string[] {
  const registered = resources.types();
  return asked ? asked.filter((type) => registered.includes(type)) : registered;
}

/**
 * Waldur's SetErredStuckResources, for every registered resource type: resources CREATING or
 * CREATION_SCHEDULED not modified for longer than the timeout become ERRED "Provisioning has timed
 * out.", and the execution still running on each is cancelled (its failure handler keeps that error).
 */
export const stuckProvisioningTask = defineTask({
  name: WATCHDOG_TASKS.stuckProvisioning,
  queue: 'background',
  equality: 'name',
  sideEffects: false,
  args: watchdogArgs,
  retry: { maxAttempts: 3, initialDelayMs: 1000 },
  async run(ctx, args): Promise<TaskOutcome> {
    const modifiedBefore = new Date(Date.now() - (args.timeoutMs ?? DEFAULT_PROVISIONING_TIMEOUT_MS));
    const also: RelatedPatch[] = [];
    const cancel: string[] = [];
    for (const type of watchedTypes(ctx.resources, args.types)) {
      const stuck = await ctx.resources.find(type, {}, { states: ['CREATING', 'CREATION_SCHEDULED'], modifiedBefore });
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

/**
 * Waldur's reset_updating_resources, for every registered resource type: resources UPDATING whose
 * latest execution has finished (or that have none) return to OK; those with a live execution stay.
 */
export const resetUpdatingTask = defineTask({
  name: WATCHDOG_TASKS.resetUpdating,
  queue: 'background',
  equality: 'name',
  sideEffects: false,
  args: watchdogArgs,
  retry: { maxAttempts: 3, initialDelayMs: 1000 },
  async run(ctx, args) {
    const also: RelatedPatch[] = [];
    for (const type of watchedTypes(ctx.resources, args.types)) {
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

export const watchdogTasks = [stuckProvisioningTask, resetUpdatingTask] as const;
