import { BackendError, defineTask, describeFailure, done, type ResourcePatch, type TaskOutcome } from '@jetcel/core';
import type { ReferenceServices } from './services.ts';

export const PULL_TASKS = {
  listPull: 'instance.list_pull',
  backgroundPull: 'instance.background_pull',
} as const;

/**
 * Waldur's BackgroundListPullTask: one background pull per instance in OK or
 * ERRED with a backend id; instances in transitional states are left to their executions.
 * Equality by name: one list pull at a time.
 */
export const listPullTask = defineTask<unknown, ReferenceServices>({
  name: PULL_TASKS.listPull,
  queue: 'background',
  equality: 'name',
  sideEffects: false,
  retry: { maxAttempts: 3, initialDelayMs: 1000 },
  async run(ctx): Promise<TaskOutcome> {
    const instances = await ctx.resources.find('instance', {}, { states: ['OK', 'ERRED'], hasBackendId: true });
    return {
      kind: 'done',
      enqueue: instances.map((instance) => ({ task: PULL_TASKS.backgroundPull, resource: `instance:${instance.id}` })),
      result: { instances: instances.length },
    };
  },
});

/**
 * Waldur's BackgroundPullTask: refreshes an instance from the cloud. A backend
 * error (the server is gone, or refused the read, or is in ERROR) marks it ERRED with the error's
 * text — quietly, without a new transition, when it already is; a good pull recovers an ERRED
 * instance to OK. Transient errors (timeouts, 5xx) retry and then give up without touching the
 * state: a flaky network does not flip instances to ERRED. Equality by name and resource.
 */
export const backgroundPullTask = defineTask<unknown, ReferenceServices>({
  name: PULL_TASKS.backgroundPull,
  queue: 'background',
  equality: 'resource',
  sideEffects: false,
  retry: { maxAttempts: 3, initialDelayMs: 1000 },
  timeoutMs: 30_000,
  async run(ctx) {
    const instance = ctx.resource;
    if (!instance?.backendId || (instance.state !== 'OK' && instance.state !== 'ERRED')) {
      ctx.log.debug('pull skipped: the instance is busy or has no backend id', { state: instance?.state });
      return done(undefined, { skipped: instance?.state ?? null });
    }
    try {
      const server = await ctx.services.cloud.getServer(instance.backendId, { signal: ctx.signal });
      if (server.status === 'ERROR') {
        const message = server.fault ?? 'Server is in ERROR at the backend';
        throw new BackendError(`Server ${server.id} is in ERROR: ${message}`, { userMessage: message });
      }
      const patch: ResourcePatch = {
        ...(instance.state === 'ERRED' ? { transition: 'recover' as const } : {}),
        ...(server.status === instance.runtimeState ? {} : { runtimeState: server.status }),
        ...(server.flavor === instance.fields.flavor ? {} : { fields: { flavor: server.flavor } }),
      };
      if (patch.transition) ctx.log.info('pull succeeded; instance recovered', { status: server.status });
      return done(Object.keys(patch).length > 0 ? patch : undefined, { status: server.status });
    } catch (error) {
      if (!(error instanceof BackendError)) throw error;
      const { message, traceback } = describeFailure(error);
      if (instance.state === 'ERRED') {
        ctx.log.debug('pull failed again for an ERRED instance', { error: message });
        const changed = instance.errorMessage !== message;
        return done(changed ? { errorMessage: message, errorTraceback: traceback } : undefined, { error: message });
      }
      ctx.log.error('pull failed; instance marked ERRED', { error: message });
      return done({ transition: 'set_erred', errorMessage: message, errorTraceback: traceback }, { error: message });
    }
  },
});
