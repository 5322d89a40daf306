import { z } from 'zod';
import { defineTask, done, failurePatch, failureSchema, taskRef, type RelatedPatch } from '@jetcel/core';
import type { ReferenceConfig } from './config.ts';
import { BACKEND_CALL, callOptions } from './backend-call.ts';
import { backendDeletionTasks } from './backend-deletion.ts';
import { backendPollTask } from './backend-poll.ts';
import { instanceFields, requireBackendId, requireResource } from './fields.ts';
import type { ReferenceServices } from './services.ts';

export const INSTANCE_TASKS = {
  createServer: 'instance.create_server',
  pollServer: 'instance.poll_server',
  renameServer: 'instance.rename_server',
  serverAction: 'instance.server_action',
  deleteServer: 'instance.delete_server',
  pollDeleted: 'instance.poll_server_deleted',
  pull: 'instance.pull',
  setErred: 'instance.set_erred',
} as const;

/**
 * Backend-method task: its step applies begin_creating before `run` (in the claim transaction);
 * the create call carries the step's idempotency key, so a repeat creates nothing twice.
 */
export const createServerTask = defineTask<unknown, ReferenceServices>({
  name: INSTANCE_TASKS.createServer,
  ...BACKEND_CALL,
  async run(ctx) {
    const instance = requireResource(ctx.resource, INSTANCE_TASKS.createServer);
    const fields = instanceFields.parse(instance.fields);
    const server = await ctx.services.cloud.createServer(
      { name: fields.name, settingsId: fields.cloudSettingsId, flavor: fields.flavor },
      callOptions(ctx),
    );
    ctx.log.info('server created at the backend', { backendId: server.id, status: server.status });
    return done({ backendId: server.id, runtimeState: server.status }, { backendId: server.id });
  },
});

const pollArgs = z.object({ until: z.enum(['ACTIVE', 'SHUTOFF']).default('ACTIVE'), flavor: z.string().optional() });

/** The poll task as plans name it (its definition is built from the configuration). */
export const pollServer = taskRef(INSTANCE_TASKS.pollServer, pollArgs);

/** Polls until the server is in the status asked for (and has the flavor asked for, after a resize). */
export function pollServerTask(config: ReferenceConfig) {
  return backendPollTask(
    {
      task: INSTANCE_TASKS.pollServer,
      args: pollArgs,
      timeoutMs: 30_000,
      noun: 'Server',
      errorStatus: 'ERROR',
      get: (cloud, id, options) => cloud.getServer(id, options),
      arrived: (server, args) => {
        if (server.status !== args.until || (args.flavor !== undefined && server.flavor !== args.flavor)) return null;
        return args.flavor ? { fields: { flavor: args.flavor } } : {};
      },
    },
    config,
  );
}

/** Update: pushes the new name (already saved by the command) to the backend. */
export const renameServerTask = defineTask<unknown, ReferenceServices>({
  name: INSTANCE_TASKS.renameServer,
  ...BACKEND_CALL,
  async run(ctx) {
    const instance = requireResource(ctx.resource, INSTANCE_TASKS.renameServer);
    const { name } = instanceFields.parse(instance.fields);
    await ctx.services.cloud.renameServer(requireBackendId(instance), name, callOptions(ctx));
    return done();
  },
});

const actionArgs = z.discriminatedUnion('action', [
  z.object({ action: z.literal('resize'), flavor: z.string() }),
  z.object({ action: z.literal('start') }),
  z.object({ action: z.literal('stop') }),
]);

/** Start, stop and resize: the backend call; a poll step then waits for the result. */
export const serverActionTask = defineTask<z.infer<typeof actionArgs>, ReferenceServices>({
  name: INSTANCE_TASKS.serverAction,
  args: actionArgs,
  ...BACKEND_CALL,
  async run(ctx, args) {
    const instance = requireResource(ctx.resource, INSTANCE_TASKS.serverAction);
    const server = await ctx.services.cloud.serverAction(requireBackendId(instance), args, callOptions(ctx));
    return done({ runtimeState: server.status });
  },
});

/** Pull: refreshes runtime state and flavor from the backend; a missing server fails the pull. */
export const pullServerTask = defineTask<unknown, ReferenceServices>({
  name: INSTANCE_TASKS.pull,
  ...BACKEND_CALL,
  sideEffects: false,
  async run(ctx) {
    const instance = requireResource(ctx.resource, INSTANCE_TASKS.pull);
    const server = await ctx.services.cloud.getServer(requireBackendId(instance), { signal: ctx.signal });
    return done({ runtimeState: server.status, fields: { flavor: server.flavor } });
  },
});

/**
 * Instance create's failure handler (Waldur item 40): the instance ends ERRED; its volumes still
 * CREATION_SCHEDULED are deleted, OK volumes are left alone, any other volume becomes ERRED.
 */
export const setInstanceErredTask = defineTask<{ failure?: z.infer<typeof failureSchema> }, ReferenceServices>({
  name: INSTANCE_TASKS.setErred,
  args: z.object({ failure: failureSchema.optional() }),
  retry: { maxAttempts: 3, initialDelayMs: 500 },
  sideEffects: false,
  async run(ctx, args) {
    const instance = requireResource(ctx.resource, INSTANCE_TASKS.setErred);
    const volumes = await ctx.resources.find('volume', { instanceId: instance.id });
    const patch = failurePatch(args.failure, instance);
    const also: RelatedPatch[] = [];
    for (const volume of volumes) {
      const ref = `volume:${volume.id}`;
      if (volume.state === 'OK') continue;
      if (volume.state === 'CREATION_SCHEDULED' || patch.delete)
        also.push({ ref, version: volume.version, patch: { delete: true } });
      else if (volume.state !== 'ERRED') {
        also.push({
          ref,
          version: volume.version,
          patch: {
            transition: 'set_erred',
            errorMessage: 'The instance it belongs to failed',
            action: '',
            actionDetails: {},
          },
        });
      }
    }
    return done(patch, null, also);
  },
});

/** Delete: the call, then a poll until the server is gone. */
export function serverDeletionTasks(config: ReferenceConfig) {
  return backendDeletionTasks(
    {
      deleteTask: INSTANCE_TASKS.deleteServer,
      pollTask: INSTANCE_TASKS.pollDeleted,
      remove: (cloud, id, options) => cloud.deleteServer(id, options),
      get: (cloud, id, options) => cloud.getServer(id, options),
    },
    config,
  );
}
