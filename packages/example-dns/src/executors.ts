import { defineExecutor, step, type AuthorizeHook } from '@jetcel/core';
import { isAdmin } from '@jetcel/runtime';
import { createZoneTask, deleteZoneTask, pollZoneTask } from './tasks.ts';
import { ZONE_TYPE, zoneFields } from './zone.ts';

/** An admin may do anything; anyone else acts only on the zones they created. */
export const ownerOrAdmin: AuthorizeHook = (identity, _action, resource) =>
  isAdmin(identity) || (resource.fields.owner !== null && resource.fields.owner === identity.actor);

/** The throttle kind of zone creates: at most `limit` at once per provider account. */
export const ZONE_CREATE_THROTTLE = 'dns_zone_create';

/**
 * Create: begin_creating and the provider call under the account's throttle, then a poll until the
 * zone is ACTIVE. Success sets OK; a failure sets ERRED with the provider's message (the defaults).
 */
export const zoneCreateExecutor = defineExecutor<Record<string, never>>({
  name: 'dns_zone.create',
  kind: 'create',
  resourceType: ZONE_TYPE,
  authorize: ownerOrAdmin,
  tasks: [createZoneTask, pollZoneTask],
  steps: () => [
    step(createZoneTask, undefined, {
      throttled: true,
      before: { transition: 'begin_creating', runtimeState: 'creating' },
    }),
    step(pollZoneTask),
  ],
  throttle: { kind: ZONE_CREATE_THROTTLE, scope: ({ resource }) => zoneFields.parse(resource.fields).account },
});

/** Delete: the provider call; success removes the row, failure leaves it ERRED unless forced. */
export const zoneDeleteExecutor = defineExecutor<{ force: boolean }>({
  name: 'dns_zone.delete',
  kind: 'delete',
  resourceType: ZONE_TYPE,
  authorize: ownerOrAdmin,
  tasks: [deleteZoneTask],
  steps: () => [step(deleteZoneTask, undefined, { before: { transition: 'begin_deleting' } })],
});
