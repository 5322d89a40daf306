import { ownerOrAdmin } from './authorization.ts';
import {
  defineExecutor,
  defineTask,
  doneWith,
  runExecutor,
  runExecutorTask,
  scheduleOf,
  step,
  type PlanNode,
} from '@jetcel/core';
import type { ReferenceConfig } from './config.ts';
import { instanceFields, requireResource } from './fields.ts';
import {
  createServerTask,
  INSTANCE_TASKS,
  pollServer,
  pullServerTask,
  renameServerTask,
  serverActionTask,
  setInstanceErredTask,
} from './instance-tasks.ts';

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
    tasks: [runExecutorTask, createServerTask, pollServer, setInstanceErredTask, instanceCreatedTask],
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
        step(createServerTask, undefined, {
          throttled: true,
          before: { transition: 'begin_creating', runtimeState: 'provisioning' },
        }),
        step(pollServer, { until: 'ACTIVE' }, { startDelayMs: config.firstPollDelayMs }),
      ];
    },
    ...(config.pullAfterCreate ? { onSuccess: () => step(instanceCreatedTask) } : {}),
    onFailure: () => step(setInstanceErredTask, {}),
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
  tasks: [renameServerTask],
  steps: () => [step(renameServerTask, undefined, { before: { transition: 'begin_updating' } })],
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
  tasks: [serverActionTask, pollServer],
  steps: ({ params }): PlanNode[] => [
    step(serverActionTask, { action: 'resize', flavor: params.flavor }, { before: { transition: 'begin_updating' } }),
    step(pollServer, { until: 'ACTIVE', flavor: params.flavor }),
  ],
});

function powerExecutor(name: string, action: 'start' | 'stop', until: 'ACTIVE' | 'SHUTOFF', label: string) {
  return defineExecutor<Record<string, never>>({
    name,
    kind: 'action',
    resourceType: 'instance',
    authorize: ownerOrAdmin,
    action: label,
    tasks: [serverActionTask, pollServer],
    steps: (): PlanNode[] => [
      step(serverActionTask, { action }, { before: { transition: 'begin_updating' } }),
      step(pollServer, { until }),
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
  // Built from the configuration (serverDeletionTasks): named, and checked at start-up.
  tasks: [INSTANCE_TASKS.deleteServer, INSTANCE_TASKS.pollDeleted],
  steps: () => [
    step(INSTANCE_TASKS.deleteServer, undefined, { before: { transition: 'begin_deleting' } }),
    step(INSTANCE_TASKS.pollDeleted),
  ],
});

/** Pull: refresh from the backend; a failure leaves the instance ERRED, a later success recovers it. */
export const instancePullExecutor = defineExecutor<Record<string, never>>({
  name: INSTANCE_EXECUTORS.pull,
  kind: 'action',
  resourceType: 'instance',
  authorize: ownerOrAdmin,
  action: 'Pull',
  tasks: [pullServerTask],
  steps: () => [step(pullServerTask, undefined, { before: { transition: 'begin_updating' } })],
});

/**
 * A create's success handler (with `pullAfterCreate`): the instance OK, and a pull of it scheduled
 * in the same commit (Waldur's success tasks). A refused pull is skipped: the create stands.
 */
export const instanceCreatedTask = defineTask({
  name: 'instance.created',
  sideEffects: false,
  async run(ctx) {
    const instance = requireResource(ctx.resource, 'instance.created');
    return doneWith({
      patch: { transition: 'set_ok', action: '', actionDetails: {} },
      schedule: [scheduleOf(instancePullExecutor, instance, {}, { onRefused: 'skip' })],
    });
  },
});
