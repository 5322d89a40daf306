import { defineTask, done, pollAgain, type TaskDefinition } from '@jetcel/core';
import { BACKEND_CALL } from './backend-call.ts';
import { NotAtBackendError, type CallOptions, type CloudClient } from './cloud-client.ts';
import type { ReferenceConfig } from './config.ts';
import { requireResource } from './fields.ts';
import type { ReferenceServices } from './services.ts';

/** How one kind of backend object is deleted and looked up. */
interface BackendObject {
  deleteTask: string;
  pollTask: string;
  remove(cloud: CloudClient, id: string, options: CallOptions): Promise<unknown>;
  get(cloud: CloudClient, id: string, options: CallOptions): Promise<unknown>;
}

/**
 * The two steps of a delete executor: the delete call (an object already gone counts as deleted),
 * then Waldur's PollBackendCheckTask, polling until the object is gone.
 */
export function backendDeletionTasks(
  object: BackendObject,
  config: ReferenceConfig,
): [TaskDefinition<unknown, ReferenceServices>, TaskDefinition<unknown, ReferenceServices>] {
  const remove = defineTask<unknown, ReferenceServices>({
    name: object.deleteTask,
    ...BACKEND_CALL,
    async run(ctx) {
      const resource = requireResource(ctx.resource, object.deleteTask);
      if (!resource.backendId) return done();
      try {
        await object.remove(ctx.services.cloud, resource.backendId, {
          signal: ctx.signal,
          idempotencyKey: ctx.idempotencyKey,
        });
      } catch (error) {
        if (!(error instanceof NotAtBackendError)) throw error;
      }
      return done({ runtimeState: 'deleting' });
    },
  });
  const pollGone = defineTask<unknown, ReferenceServices>({
    name: object.pollTask,
    pollIntervalMs: config.pollIntervalMs,
    maxPolls: config.maxPolls,
    retry: { maxAttempts: 5, initialDelayMs: 1000 },
    sideEffects: false,
    async run(ctx) {
      const resource = requireResource(ctx.resource, object.pollTask);
      if (!resource.backendId) return done();
      try {
        await object.get(ctx.services.cloud, resource.backendId, { signal: ctx.signal });
        return pollAgain();
      } catch (error) {
        if (error instanceof NotAtBackendError) return done();
        throw error;
      }
    },
  });
  return [remove, pollGone];
}
