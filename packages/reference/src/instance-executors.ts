import { ownerOrAdmin } from './authorization.ts';
import { defineExecutor, runExecutor, type PlanNode } from '@jetcel/core';
import type { ReferenceConfig } from './config.ts';
import { instanceFields } from './fields.ts';
import { INSTANCE_TASKS } from './instance-tasks.ts';

export const INSTANCE_EXECUTORS = {
  create: 'instance.create',
  rename: 'instance.rename',
  resize: 'instance.resize',
  start: 'instance.start',
  stop: 'instance.stop',
  delete: 'instance.delete',
  pull: 'instance.pull',
} as const;

export interface InstanceCreateParams {
  [key: string]: string[];
  /** Volumes created with the instance (rows already inserted in CREATION_SCHEDULED). */
  volumeIds: string[];
}

/**
 * Create: the instance's volumes first, in parallel (a fail-fast group of nested volume creates),
 * then begin_creating with the create call (the step the throttling guards), then a poll until
 * ACTIVE. Failure: the instance ERRED and its volumes cleaned up (Waldur item 40).
 */
export function instanceCreateExecutor(config: ReferenceConfig) {
  return defineExecutor<InstanceCreateParams>({
    name: INSTANCE_EXECUTORS.create,
    kind: 'create',
    resourceType: 'instance',
    authorize: ownerOrAdmin,
    steps: ({ params }) => {
      const volumes: PlanNode[] =
        params.volumeIds.length === 0
          ? []
          : [
              {
                policy: 'fail_fast',
                group: params.volumeIds.map((id, index) =>
                  runExecutor('volume.create', `volume:${id}`, {}, { startDelayMs: index * config.volumeStaggerMs }),
                ),
              },
            ];
      return [
        ...volumes,
        // The throttled span starts here: at most N builds per cloud settings (Waldur's ThrottleProvisionTask).
        {
          task: INSTANCE_TASKS.createServer,
          throttled: true,
          before: { transition: 'begin_creating', runtimeState: 'provisioning' },
        },
        { task: INSTANCE_TASKS.pollServer, args: { until: 'ACTIVE' }, startDelayMs: config.firstPollDelayMs },
      ];
    },
    onFailure: () => ({ task: INSTANCE_TASKS.setErred }),
    throttle: {
      kind: 'instance_provision',
      scope: ({ resource }) => instanceFields.parse(resource.fields).cloudSettingsId,
    },
  });
}

/** Update: the command saved the new name; this pushes it to the backend. */
export const instanceRenameExecutor = defineExecutor<{ updatedFields: string[] }>({
  name: INSTANCE_EXECUTORS.rename,
  kind: 'update',
  resourceType: 'instance',
  authorize: ownerOrAdmin,
  steps: () => [{ task: INSTANCE_TASKS.renameServer, before: { transition: 'begin_updating' } }],
});

/** Resize, an action: the call, then a poll until ACTIVE with the new flavor. */
export const instanceResizeExecutor = defineExecutor<{ flavor: string }>({
  name: INSTANCE_EXECUTORS.resize,
  kind: 'action',
  resourceType: 'instance',
  authorize: ownerOrAdmin,
  action: 'Resize',
  actionDetails: ({ resource, params }) => ({
    message: `Resize from ${instanceFields.parse(resource.fields).flavor} to ${params.flavor}`,
    old_flavor: resource.fields.flavor ?? null,
    new_flavor: params.flavor,
  }),
  steps: ({ params }): PlanNode[] => [
    {
      task: INSTANCE_TASKS.serverAction,
      args: { action: 'resize', flavor: params.flavor },
      before: { transition: 'begin_updating' },
    },
    { task: INSTANCE_TASKS.pollServer, args: { until: 'ACTIVE', flavor: params.flavor } },
  ],
});

function powerExecutor(name: string, action: 'start' | 'stop', until: 'ACTIVE' | 'SHUTOFF', label: string) {
  return defineExecutor<Record<string, never>>({
    name,
    kind: 'action',
    resourceType: 'instance',
    authorize: ownerOrAdmin,
    action: label,
    steps: (): PlanNode[] => [
      { task: INSTANCE_TASKS.serverAction, args: { action }, before: { transition: 'begin_updating' } },
      { task: INSTANCE_TASKS.pollServer, args: { until } },
    ],
  });
}

export const instanceStartExecutor = powerExecutor(INSTANCE_EXECUTORS.start, 'start', 'ACTIVE', 'Start');
export const instanceStopExecutor = powerExecutor(INSTANCE_EXECUTORS.stop, 'stop', 'SHUTOFF', 'Stop');

/** Delete: success removes the row; failure leaves it ERRED unless forced. */
export const instanceDeleteExecutor = defineExecutor<{ force: boolean }>({
  name: INSTANCE_EXECUTORS.delete,
  kind: 'delete',
  resourceType: 'instance',
  authorize: ownerOrAdmin,
  steps: () => [
    { task: INSTANCE_TASKS.deleteServer, before: { transition: 'begin_deleting' } },
    { task: INSTANCE_TASKS.pollDeleted },
  ],
});

/** Pull: refresh from the backend; a failure leaves the instance ERRED, a later success recovers it. */
export const instancePullExecutor = defineExecutor<Record<string, never>>({
  name: INSTANCE_EXECUTORS.pull,
  kind: 'action',
  resourceType: 'instance',
  authorize: ownerOrAdmin,
  action: 'Pull',
  steps: () => [{ task: INSTANCE_TASKS.pull, before: { transition: 'begin_updating' } }],
});
