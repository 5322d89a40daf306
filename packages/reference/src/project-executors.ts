import { ownerOrAdmin } from './authorization.ts';
import { defineCleanupExecutor } from '@jetcel/core';
import { INSTANCE_EXECUTORS } from './instance-executors.ts';
import { VOLUME_EXECUTORS } from './volume-executors.ts';

/**
 * Waldur's project cleanup: when it runs, the project's instances and volumes are found and
 * deleted by their own executors, forced, instances first (an instance depends on its volumes);
 * busy ones are waited for; then the project row is deleted.
 */
export const projectCleanupExecutor = defineCleanupExecutor({
  name: 'project.cleanup',
  resourceType: 'project',
  authorize: ownerOrAdmin,
  pollIntervalMs: 500,
  related: [
    {
      resourceType: 'instance',
      executor: INSTANCE_EXECUTORS.delete,
      where: (project) => ({ projectId: project.id }),
      params: { force: true },
      dependsOn: ['volume'],
    },
    {
      resourceType: 'volume',
      executor: VOLUME_EXECUTORS.delete,
      where: (project) => ({ projectId: project.id }),
      params: { force: true },
    },
  ],
});
