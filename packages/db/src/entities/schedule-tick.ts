import { defineEntity, p } from '@mikro-orm/core';

/** One published tick of a beat schedule: the primary key makes each tick publish once. */
export const ScheduleTick = defineEntity({
  name: 'ScheduleTick',
  tableName: 'jetcel_schedule_tick',
  properties: {
    schedule: p.string().primary(),
    /** The scheduled UTC instant, aligned to the epoch (not the moment beat noticed it). */
    tick: p.datetime().primary(),
    createdAt: p.datetime().defaultRaw('now()'),
  },
});
