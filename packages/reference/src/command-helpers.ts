import { z } from 'zod';
import {
  NotFoundError,
  ValidationError,
  type ExecutorDefinition,
  type JsonObject,
  type ResourceSnapshot,
} from '@jetcel/core';
import type { CommandContext } from '@jetcel/runtime';
import { CLOUD_SETTINGS_TABLE } from './entities.ts';

export const slug = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'letters, digits, "_", "." and "-" only');

export const byId = z.strictObject({ id: z.uuid() });

/**
 * The resource a command or query names, locked. One the caller may not read does not exist for
 * them: NOT_FOUND, the very reply an unknown id gets.
 */
export async function load(ctx: CommandContext, type: string, id: string): Promise<ResourceSnapshot> {
  const resource = await ctx.resources.get(type, id, { forUpdate: true });
  if (!resource || !(await ctx.read.canRead(resource)))
    throw new NotFoundError(type[0]?.toUpperCase() + type.slice(1), id);
  return resource;
}

export async function requireCloudSettings(ctx: CommandContext, id: string): Promise<void> {
  if (!(await ctx.records.exists(CLOUD_SETTINGS_TABLE, id))) {
    throw new ValidationError(`Unknown cloud settings "${id}"`, { field: 'cloudSettingsId' });
  }
}

/** Schedules an executor on a resource and answers with its view (as the caller may see it), the execution id and `noop`. */
export async function runOn<P extends JsonObject, V>(
  ctx: CommandContext,
  resource: ResourceSnapshot,
  executor: ExecutorDefinition<P>,
  params: P,
  view: (resource: ResourceSnapshot) => V,
): Promise<V & { executionId: string | null; noop: boolean }> {
  const scheduled = await ctx.schedule(executor, resource, params);
  const shown = ctx.read.shown(scheduled.resource);
  return scheduled.kind === 'scheduled'
    ? { ...view(shown), executionId: scheduled.executionId, noop: false }
    : { ...view(shown), executionId: null, noop: true };
}
