import { defineEntity, p } from '@mikro-orm/core';
import type { FailureInfo } from '@jetcel/core';
import { Execution } from './execution.ts';

/** A group of parallel steps: `remaining` counts members not yet finished (fan-in). */
export const Group = defineEntity({
  name: 'Group',
  tableName: 'jetcel_group',
  properties: {
    id: p.uuid().primary(),
    execution: p.manyToOne(Execution).deleteRule('cascade'),
    position: p.integer(),
    policy: p.string().length(16),
    size: p.integer(),
    remaining: p.integer(),
    failed: p.boolean().default(false),
    failure: p.json<FailureInfo>().nullable(),
    createdAt: p.datetime().defaultRaw('now()'),
  },
  uniques: [{ properties: ['execution', 'position'] }],
});
