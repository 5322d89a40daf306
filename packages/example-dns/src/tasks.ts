import {
  BackendError,
  defineTask,
  describeFailure,
  done,
  pollAgain,
  type ResourcePatch,
  type ResourceSnapshot,
  type TaskContext,
} from '@jetcel/core';
import type { ProviderCallOptions } from './provider.ts';
import type { DnsServices } from './services.ts';
import { ZONE_TYPE, zoneFields } from './zone.ts';

export const DNS_TASKS = {
  createZone: 'dns.create_zone',
  pollZone: 'dns.poll_zone',
  deleteZone: 'dns.delete_zone',
  listPull: 'dns.list_pull',
  pullZone: 'dns.pull_zone',
} as const;

/** The step's abort signal, idempotency key and the throttle lease's fencing: every provider call carries them. */
function callOptions(ctx: TaskContext<DnsServices>): ProviderCallOptions {
  return {
    signal: ctx.signal,
    idempotencyKey: ctx.idempotencyKey,
    fencingToken: ctx.fencingToken,
    fencingSlot: ctx.fencingSlot,
  };
}

function zoneOf(ctx: TaskContext<DnsServices>, task: string): ResourceSnapshot {
  if (ctx.resource?.type !== ZONE_TYPE) throw new BackendError(`${task} runs on a ${ZONE_TYPE}`);
  return ctx.resource;
}

function backendIdOf(zone: ResourceSnapshot): string {
  if (!zone.backendId) throw new BackendError(`zone ${zone.id} has no provider id`);
  return zone.backendId;
}

/** Asks the provider for the zone; a refusal is final (BackendError), the zone ends ERRED with its message. */
export const createZoneTask = defineTask<unknown, DnsServices>({
  name: DNS_TASKS.createZone,
  retry: { maxAttempts: 3, initialDelayMs: 500 },
  timeoutMs: 30_000,
  async run(ctx) {
    const { name } = zoneFields.parse(zoneOf(ctx, DNS_TASKS.createZone).fields);
    const zone = await ctx.services.dns.createZone(name, callOptions(ctx));
    return done({ backendId: zone.id, runtimeState: zone.status }, { providerId: zone.id });
  },
});

/** Polls until the provider says the zone is ACTIVE; ERROR fails the create. */
export const pollZoneTask = defineTask<unknown, DnsServices>({
  name: DNS_TASKS.pollZone,
  sideEffects: false,
  pollIntervalMs: 250,
  maxPolls: 240,
  async run(ctx) {
    const zone = await ctx.services.dns.getZone(backendIdOf(zoneOf(ctx, DNS_TASKS.pollZone)), callOptions(ctx));
    if (zone.status === 'ERROR') throw new BackendError(`zone ${zone.id} is in ERROR: ${zone.fault ?? 'no reason'}`);
    return zone.status === 'ACTIVE'
      ? done({ runtimeState: 'ACTIVE' })
      : pollAgain(undefined, { runtimeState: zone.status });
  },
});

/** Deletes the zone at the provider (a zone never created there has nothing to delete). */
export const deleteZoneTask = defineTask<unknown, DnsServices>({
  name: DNS_TASKS.deleteZone,
  retry: { maxAttempts: 3, initialDelayMs: 500 },
  timeoutMs: 30_000,
  async run(ctx) {
    const zone = zoneOf(ctx, DNS_TASKS.deleteZone);
    if (zone.backendId) await ctx.services.dns.deleteZone(zone.backendId, callOptions(ctx));
    return done();
  },
});

/** The beat's pull: one background pull per settled zone with a provider id. */
export const listPullTask = defineTask<unknown, DnsServices>({
  name: DNS_TASKS.listPull,
  queue: 'background',
  equality: 'name',
  sideEffects: false,
  async run(ctx) {
    const zones = await ctx.resources.find(ZONE_TYPE, {}, { states: ['OK', 'ERRED'], hasBackendId: true });
    return {
      kind: 'done',
      enqueue: zones.map((zone) => ({ task: DNS_TASKS.pullZone, resource: `${ZONE_TYPE}:${zone.id}` })),
      result: { zones: zones.length },
    };
  },
});

/**
 * Refreshes one zone from the provider: its status becomes the runtime state; a zone in ERROR (or
 * gone) at the provider is marked ERRED with the provider's message; a good pull recovers an ERRED zone.
 */
export const pullZoneTask = defineTask<unknown, DnsServices>({
  name: DNS_TASKS.pullZone,
  queue: 'background',
  equality: 'resource',
  sideEffects: false,
  async run(ctx) {
    const zone = ctx.resource;
    if (!zone?.backendId || (zone.state !== 'OK' && zone.state !== 'ERRED')) return done(undefined, { skipped: true });
    try {
      const remote = await ctx.services.dns.getZone(zone.backendId, { signal: ctx.signal });
      if (remote.status === 'ERROR') throw new BackendError(remote.fault ?? `zone ${remote.id} is in ERROR`);
      const patch: ResourcePatch = {
        ...(zone.state === 'ERRED' ? { transition: 'recover' as const } : {}),
        ...(remote.status === zone.runtimeState ? {} : { runtimeState: remote.status }),
      };
      return done(Object.keys(patch).length > 0 ? patch : undefined, { status: remote.status });
    } catch (error) {
      if (!(error instanceof BackendError)) throw error;
      const { message, traceback } = describeFailure(error);
      if (zone.state === 'ERRED') return done({ errorMessage: message, errorTraceback: traceback }, { error: message });
      return done({ transition: 'set_erred', errorMessage: message, errorTraceback: traceback }, { error: message });
    }
  },
});

export const dnsTasks = [createZoneTask, pollZoneTask, deleteZoneTask, listPullTask, pullZoneTask];
