import { ownerOrAdmin } from './authorization.ts';
import { defineExecutor, step } from '@jetcel/core';
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

/** Extend, an action: a failure also marks the attached instance ERRED (Waldur item 41). */
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
