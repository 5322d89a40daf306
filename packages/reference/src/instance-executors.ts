import { defineExecutor } from '@jetcel/core';
import type { ReferenceConfig } from './config.ts';
import { INSTANCE_TASKS } from './instance-tasks.ts';

/**
 * Create: begin_creating and the create call (the step the throttling will guard), then poll until
 * ACTIVE; success sets OK, failure sets ERRED with the backend's message.
 */
export function instanceCreateExecutor(config: ReferenceConfig) {
  return defineExecutor({
    name: 'instance.create',
    kind: 'create',
    resourceType: 'instance',
    steps: () => [
      { task: INSTANCE_TASKS.createServer, before: { transition: 'begin_creating', runtimeState: 'provisioning' } },
      { task: INSTANCE_TASKS.pollServer, startDelayMs: config.firstPollDelayMs },
    ],
  });
}
