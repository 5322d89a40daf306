import { z } from 'zod';
import { defineTask, done, failurePatch, failureSchema, taskRef, type RelatedPatch } from '@jetcel/core';
import type { ReferenceConfig } from './config.ts';
import { BACKEND_CALL, callOptions } from './backend-call.ts';
import { backendDeletionTasks } from './backend-deletion.ts';
import { backendPollTask } from './backend-poll.ts';
import { requireBackendId, requireResource, volumeFields } from './fields.ts';
import type { ReferenceServices } from './services.ts';

export const VOLUME_TASKS = {
  createVolume: 'volume.create_volume',
  pollVolume: 'volume.poll_volume',
  extendVolume: 'volume.extend_volume',
  deleteVolume: 'volume.delete_volume',
  pollDeleted: 'volume.poll_volume_deleted',
  extendErred: 'volume.extend_erred',
} as const;

export const createVolumeTask = defineTask<unknown, ReferenceServices>({
  name: VOLUME_TASKS.createVolume,
  ...BACKEND_CALL,
  async run(ctx) {
    const volume = requireResource(ctx.resource, VOLUME_TASKS.createVolume);
    const fields = volumeFields.parse(volume.fields);
    const created = await ctx.services.cloud.createVolume(
      { name: fields.name, settingsId: fields.cloudSettingsId, size: fields.size },
      callOptions(ctx),
    );
    return done({ backendId: created.id, runtimeState: created.status }, { backendId: created.id });
  },
});

const pollArgs = z.object({ size: z.number().int().optional() });

/** The poll task as plans name it (its definition is built from the configuration). */
export const pollVolume = taskRef(VOLUME_TASKS.pollVolume, pollArgs);

/** Polls until the volume is `available` (and has the requested size, after an extend). */
export function pollVolumeTask(config: ReferenceConfig) {
  return backendPollTask(
    {
      task: VOLUME_TASKS.pollVolume,
      args: pollArgs,
      noun: 'Volume',
      errorStatus: 'error',
      get: (cloud, id, options) => cloud.getVolume(id, options),
      arrived: (volume, args) =>
        volume.status === 'available' && (args.size === undefined || volume.size === args.size)
          ? { fields: { size: volume.size } }
          : null,
    },
    config,
  );
}

const extendArgs = z.object({ size: z.number().int().positive() });

export const extendVolumeTask = defineTask<z.infer<typeof extendArgs>, ReferenceServices>({
  name: VOLUME_TASKS.extendVolume,
  args: extendArgs,
  ...BACKEND_CALL,
  async run(ctx, args) {
    const volume = requireResource(ctx.resource, VOLUME_TASKS.extendVolume);
    const extended = await ctx.services.cloud.extendVolume(requireBackendId(volume), args.size, callOptions(ctx));
    return done({ runtimeState: extended.status });
  },
});

/**
 * Volume extend's failure handler (Waldur item 41): the volume and its instance both end ERRED; after a
 * cancel with no backend effect the volume is restored and its instance (scheduled by preApply) OK again.
 */
export const extendErredTask = defineTask<{ failure?: z.infer<typeof failureSchema> }, ReferenceServices>({
  name: VOLUME_TASKS.extendErred,
  args: z.object({ failure: failureSchema.optional() }),
  retry: { maxAttempts: 3, initialDelayMs: 500 },
  sideEffects: false,
  async run(ctx, args) {
    const volume = requireResource(ctx.resource, VOLUME_TASKS.extendErred);
    const patch = failurePatch(args.failure);
    const also: RelatedPatch[] = [];
    const { instanceId } = volumeFields.parse(volume.fields);
    const instance = instanceId ? await ctx.resources.get(`instance:${instanceId}`) : null;
    if (instance && patch.transition === 'set_erred' && instance.state !== 'ERRED') {
      const message = `Volume ${volume.id} failed to extend: ${args.failure?.message ?? 'unknown error'}`;
      also.push({
        ref: `instance:${instance.id}`,
        version: instance.version,
        patch: {
          transition: 'set_erred',
          errorMessage: message,
          errorTraceback: args.failure?.traceback ?? '',
          action: '',
          actionDetails: {},
        },
      });
    } else if (instance?.state === 'UPDATE_SCHEDULED' && instance.action === 'Extend volume') {
      // A cancel before the backend was touched: the volume is restored, and its instance freed.
      also.push({
        ref: `instance:${instance.id}`,
        version: instance.version,
        patch: { transition: 'set_ok', action: '', actionDetails: {} },
      });
    }
    return done(patch, null, also);
  },
});

/** Delete: the call, then a poll until the volume is gone. */
export function volumeDeletionTasks(config: ReferenceConfig) {
  return backendDeletionTasks(
    {
      deleteTask: VOLUME_TASKS.deleteVolume,
      pollTask: VOLUME_TASKS.pollDeleted,
      remove: (cloud, id, options) => cloud.deleteVolume(id, options),
      get: (cloud, id, options) => cloud.getVolume(id, options),
    },
    config,
  );
}
