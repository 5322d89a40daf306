import { z } from 'zod';
import { TaskError, type ResourceSnapshot } from '@jetcel/core';

/** A task's resource, which every reference task needs. */
export function requireResource(resource: ResourceSnapshot | null, task: string): ResourceSnapshot {
  if (!resource) throw new TaskError(`${task} needs a resource`);
  return resource;
}

export function requireBackendId(resource: ResourceSnapshot): string {
  if (!resource.backendId) throw new TaskError(`${resource.type} ${resource.id} has no backend id`);
  return resource.backendId;
}

/** The domain columns of an instance, checked before they reach the backend. */
export const instanceFields = z.object({
  name: z.string(),
  cloudSettingsId: z.string(),
  flavor: z.string(),
  projectId: z.string().nullable().optional(),
});

export const volumeFields = z.object({
  name: z.string(),
  cloudSettingsId: z.string(),
  size: z.number().int(),
  instanceId: z.string().nullable().optional(),
  projectId: z.string().nullable().optional(),
});
