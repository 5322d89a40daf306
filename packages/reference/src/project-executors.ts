import { ownerOrAdmin } from './authorization.ts';
import { defineExecutor, runExecutor, runExecutorTask, step, transitionTask } from '@jetcel/core';
import { INSTANCE_EXECUTORS } from './instance-executors.ts';
import { VOLUME_EXECUTORS } from './volume-executors.ts';

export interface ProjectCleanupParams {
  [key: string]: string[] | boolean;
  instanceIds: string[];
  volumeIds: string[];
  force: boolean;
}

/**
 * Waldur's project cleanup (item 42): the owner's resources are deleted by their own executors,
 * dependents first (instances, then volumes), each forced and with its errors ignored; then the
 * project row is deleted.
 */
export const projectCleanupExecutor = defineExecutor<ProjectCleanupParams>({
  name: 'project.cleanup',
  kind: 'delete',
  resourceType: 'project',
  authorize: ownerOrAdmin,
  tasks: [transitionTask, runExecutorTask],
  steps: ({ params }) => [
    step(transitionTask, { transition: 'begin_deleting' }),
    ...params.instanceIds.map((id) =>
      runExecutor(INSTANCE_EXECUTORS.delete, `instance:${id}`, { force: true }, { ignoreErrors: true }),
    ),
    ...params.volumeIds.map((id) =>
      runExecutor(VOLUME_EXECUTORS.delete, `volume:${id}`, { force: true }, { ignoreErrors: true }),
    ),
  ],
});
