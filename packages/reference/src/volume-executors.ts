import { ownerOrAdmin } from './authorization.ts';
import { defineExecutor } from '@jetcel/core';
import { volumeFields } from './fields.ts';
import { VOLUME_TASKS } from './volume-tasks.ts';

export const VOLUME_EXECUTORS = { create: 'volume.create', extend: 'volume.extend', delete: 'volume.delete' } as const;

export const volumeCreateExecutor = defineExecutor<Record<string, never>>({
  name: VOLUME_EXECUTORS.create,
  kind: 'create',
  resourceType: 'volume',
  authorize: ownerOrAdmin,
  steps: () => [
    {
      task: VOLUME_TASKS.createVolume,
      throttled: true,
      before: { transition: 'begin_creating', runtimeState: 'creating' },
    },
    { task: VOLUME_TASKS.pollVolume },
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
  steps: ({ params }) => [
    { task: VOLUME_TASKS.extendVolume, args: { size: params.size }, before: { transition: 'begin_updating' } },
    { task: VOLUME_TASKS.pollVolume, args: { size: params.size } },
  ],
  onFailure: () => ({ task: VOLUME_TASKS.extendErred }),
});

export const volumeDeleteExecutor = defineExecutor<{ force: boolean }>({
  name: VOLUME_EXECUTORS.delete,
  kind: 'delete',
  resourceType: 'volume',
  authorize: ownerOrAdmin,
  steps: () => [
    { task: VOLUME_TASKS.deleteVolume, before: { transition: 'begin_deleting' } },
    { task: VOLUME_TASKS.pollDeleted },
  ],
});
