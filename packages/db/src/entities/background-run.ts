import { defineEntity, p } from '@mikro-orm/core';
import type { Json } from '@jetcel/core';

export const BACKGROUND_RUN_STATUSES = ['queued', 'running'] as const;
export type BackgroundRunStatus = (typeof BACKGROUND_RUN_STATUSES)[number];

/**
 * A background task while it is queued or running (deleted when it finishes). `equalityKey` is
 * unique among these rows (a partial unique index, see m003): an equal run is skipped.
 */
export const BackgroundRun = defineEntity({
  name: 'BackgroundRun',
  tableName: 'jetcel_background_run',
  properties: {
    id: p.uuid().primary(),
    task: p.string(),
    equalityKey: p.text().nullable(),
    resourceRef: p.text().nullable(),
    args: p.json<Json>().nullable(),
    status: p
      .enum([...BACKGROUND_RUN_STATUSES])
      .nativeEnumName('background_run_status')
      .default('queued'),
    /** 1-based attempt; a retry after a transient error increments it. */
    attempts: p.integer().default(1),
    claimToken: p.uuid().nullable(),
    claimedUntil: p.datetime().nullable(),
    notBefore: p.datetime().defaultRaw('now()'),
    createdAt: p.datetime().defaultRaw('now()'),
    updatedAt: p.datetime().defaultRaw('now()'),
  },
  indexes: [{ properties: ['status', 'claimedUntil'] }],
});
