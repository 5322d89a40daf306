import { ownerOrAdmin } from './authorization.ts';
import { defineExecutor, handler, step } from '@jetcel/core';
import { volumeFields } from './fields.ts';
import { createVolumeTask, extendErredTask, extendVolumeTask, pollVolume, VOLUME_TASKS } from './volume-tasks.ts';

export const VOLUME_EXECUTORS = { create: 'volume.create', extend: 'volume.extend', delete: 'volume.delete' } as const;

export const volumeCreateExecutor = defineExecutor<Record<string, never>>({
  name: VOLUME_EXECUTORS.create,
  kind: 'create',
  resourceType: 'volume',
  authorize: ownerOrAdmin,
  tasks: [createVolumeTask, pollVolume],
  steps: () => [
    step(createVolumeTask, undefined, {
      throttled: true,
      before: { transition: 'begin_creating', runtimeState: 'creating' },
    }),
    step(pollVolume, {}),
  ],
  throttle: { kind: 'volume_provision', scope: ({ resource }) => volumeFields.parse(resource.fields).cloudSettingsId },
});

/**
 * Extend, an action on the volume that also occupies its instance (Waldur's VolumeExtendExecutor):
 * preApply schedules the attached instance's update too, the success handler sets both OK, and a
 * failure marks both ERRED (item 41).
 */
export const volumeExtendExecutor = defineExecutor<{ size: number }>({
  name: VOLUME_EXECUTORS.extend,
  kind: 'action',
  resourceType: 'volume',
  authorize: ownerOrAdmin,
  action: 'Extend',
  actionDetails: ({ resource, params }) => ({
    message: `Extend from ${volumeFields.parse(resource.fields).size} to ${params.size} GiB`,
    old_size: resource.fields.size ?? null,
    new_size: params.size,
  }),
  tasks: [extendVolumeTask, pollVolume, extendErredTask],
  steps: ({ params }) => [
    step(extendVolumeTask, { size: params.size }, { before: { transition: 'begin_updating' } }),
    step(pollVolume, { size: params.size }),
  ],
  async preApply(ctx) {
    const { instanceId } = volumeFields.parse(ctx.resource.fields);
    const instance = instanceId ? await ctx.resources.get('instance', instanceId, { forUpdate: true }) : null;
    if (!instance) return;
    // Refused (INVALID_STATE) unless the instance is OK or ERRED: it is busy with another operation.
    await ctx.resources.applyPatch(
      instance,
      { transition: 'schedule_updating', action: 'Extend volume', actionDetails: { volume: ctx.resource.id } },
      ctx,
    );
  },
  onSuccess: ({ resource }) => {
    const { instanceId } = volumeFields.parse(resource.fields);
    return instanceId ? [handler.setOk(`instance:${instanceId}`), handler.setOk()] : handler.setOk();
  },
  onFailure: () => step(extendErredTask, {}),
});

export const volumeDeleteExecutor = defineExecutor<{ force: boolean }>({
  name: VOLUME_EXECUTORS.delete,
  kind: 'delete',
  resourceType: 'volume',
  authorize: ownerOrAdmin,
  // Built from the configuration (volumeDeletionTasks): named, and checked at start-up.
  tasks: [VOLUME_TASKS.deleteVolume, VOLUME_TASKS.pollDeleted],
  steps: () => [
    step(VOLUME_TASKS.deleteVolume, undefined, { before: { transition: 'begin_deleting' } }),
    step(VOLUME_TASKS.pollDeleted),
  ],
});
