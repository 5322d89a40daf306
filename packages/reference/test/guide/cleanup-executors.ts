import { defineCleanupExecutor } from '@jetcel/core';
import { instanceDeleteExecutor as instanceDelete } from '../../src/instance-executors.ts';
import { volumeDeleteExecutor as volumeDelete } from '../../src/volume-executors.ts';

export const projectCleanup = defineCleanupExecutor({
  name: 'project.cleanup',
  resourceType: 'project',
  related: [
    {
      resourceType: 'instance',
      executor: instanceDelete,
      where: (project) => ({ projectId: project.id }),
      params: { force: true },
      dependsOn: ['volume'], // an instance uses volumes: instances are deleted first
    },
    {
      resourceType: 'volume',
      executor: volumeDelete,
      where: (project) => ({ projectId: project.id }),
      params: { force: true },
    },
  ],
  pollIntervalMs: 2000, // how often it looks again while related resources are busy or going
  timeoutMs: 10 * 60_000, // per related type: then the cleanup fails, naming what is left
});
