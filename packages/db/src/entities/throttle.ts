import { defineEntity, p } from '@mikro-orm/core';

/** A per-scope override of a throttle kind's limit (scope '*' for the kind's default), changed without a restart. */
export const ThrottleLimit = defineEntity({
  name: 'ThrottleLimit',
  tableName: 'jetcel_throttle_limit',
  properties: {
    kind: p.string().length(64).primary(),
    scope: p.string().length(255).primary(),
    limit: p.integer(),
    updatedAt: p.datetime().defaultRaw('now()'),
  },
});

/** An execution waiting for a free slot, first come first served per (kind, scope). */
export const ThrottleWaiter = defineEntity({
  name: 'ThrottleWaiter',
  tableName: 'jetcel_throttle_waiter',
  properties: {
    executionId: p.uuid().primary(),
    stepId: p.uuid(),
    kind: p.string().length(64),
    scope: p.string().length(255),
    since: p.datetime().defaultRaw('clock_timestamp()'),
  },
  indexes: [{ properties: ['kind', 'scope', 'since'] }],
});
