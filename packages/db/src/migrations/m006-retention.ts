import type { SqlMigration } from '../migrate.ts';

/**
 * Retention: each prune deletes the oldest rows past their age in bounded batches; these
 * indexes let it find them without scanning the table. Partial where only some rows can qualify.
 * Plain (not CONCURRENTLY) because migrations run in a transaction: fine at our table sizes.
 */
export const retention: SqlMigration = {
  name: 'm006_retention',
  up: [
    `create index "jetcel_outbox_published_at_index" on "jetcel_outbox" ("published_at") where "published_at" is not null`,
    `create index "jetcel_execution_finished_at_index" on "jetcel_execution" ("finished_at") where "finished_at" is not null`,
    `create index "jetcel_idempotency_key_created_at_index" on "jetcel_idempotency_key" ("created_at")`,
    `create index "jetcel_schedule_tick_created_at_index" on "jetcel_schedule_tick" ("created_at")`,
  ],
  down: [
    'drop index if exists "jetcel_schedule_tick_created_at_index"',
    'drop index if exists "jetcel_idempotency_key_created_at_index"',
    'drop index if exists "jetcel_execution_finished_at_index"',
    'drop index if exists "jetcel_outbox_published_at_index"',
  ],
};
