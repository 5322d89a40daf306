import { z } from 'zod';
import { BackendError, defineTask, done, pollAgain, TaskError } from '@jetcel/core';
import type { ReferenceConfig } from './config.ts';
import type { ReferenceServices } from './services.ts';

export const INSTANCE_TASKS = {
  createServer: 'instance.create_server',
  pollServer: 'instance.poll_server',
} as const;

/** The domain columns of an instance, checked before they reach the backend. */
const instanceFields = z
  .object({ name: z.string(), cloudSettingsId: z.string(), flavor: z.string() })
  .transform((fields) => ({ name: fields.name, settingsId: fields.cloudSettingsId, flavor: fields.flavor }));

function requireResource<T>(resource: T | null, task: string): T {
  if (!resource) throw new TaskError(`${task} needs a resource`);
  return resource;
}

/**
 * Backend-method task: its step applies begin_creating before `run` (in the claim transaction);
 * the create call carries the step's idempotency key, so a repeat creates nothing twice.
 */
export const createServerTask = defineTask<unknown, ReferenceServices>({
  name: INSTANCE_TASKS.createServer,
  retry: { maxAttempts: 3, initialDelayMs: 1000 },
  timeoutMs: 30_000,
  async run(ctx) {
    const instance = requireResource(ctx.resource, INSTANCE_TASKS.createServer);
    const server = await ctx.services.cloud.createServer(instanceFields.parse(instance.fields), {
      signal: ctx.signal,
      idempotencyKey: ctx.idempotencyKey,
      fencingToken: ctx.fencingToken,
    });
    ctx.log.info('server created at the backend', { backendId: server.id, status: server.status });
    return done({ backendId: server.id, runtimeState: server.status }, { backendId: server.id });
  },
});

/** Polling task: each re-check is a delayed step through the outbox, never a parked message. */
export function pollServerTask(config: ReferenceConfig) {
  return defineTask<unknown, ReferenceServices>({
    name: INSTANCE_TASKS.pollServer,
    pollIntervalMs: config.pollIntervalMs,
    maxPolls: config.maxPolls,
    retry: { maxAttempts: 5, initialDelayMs: 1000 },
    timeoutMs: 30_000,
    async run(ctx) {
      const instance = requireResource(ctx.resource, INSTANCE_TASKS.pollServer);
      if (!instance.backendId) throw new BackendError('Instance has no backend id to poll');
      const server = await ctx.services.cloud.getServer(instance.backendId, { signal: ctx.signal });
      const patch = server.status === instance.runtimeState ? undefined : { runtimeState: server.status };
      if (server.status === 'ACTIVE') return done(patch);
      if (server.status === 'ERROR') {
        const message = server.fault ?? 'Server build failed';
        throw new BackendError(`Server ${server.id} went into ERROR: ${message}`, { userMessage: message });
      }
      return pollAgain(undefined, patch);
    },
  });
}
