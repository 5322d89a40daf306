import type { SqlMigration } from '../migrate.ts';

/**
 * Background runs and beat ticks. A background run row exists while its task is
 * queued or running and is deleted when it finishes, so the partial unique index on equality_key
 * means "no equal run is queued or running". A tick row makes each (schedule, tick) publish once.
 */
export const backgroundAndBeat: SqlMigration = {
  name: 'm003_background_and_beat',
  up: [
    `create type "background_run_status" as enum ('queued', 'running')`,
    `create table "jetcel_background_run" ("id" uuid not null, "task" varchar(255) not null, "equality_key" text null, "resource_ref" text null, "args" jsonb null, "status" "background_run_status" not null default 'queued', "attempts" int not null default 1, "claim_token" uuid null, "claimed_until" timestamptz null, "not_before" timestamptz not null default now(), "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), constraint "jetcel_background_run_pkey" primary key ("id"))`,
    `create unique index "jetcel_background_run_equality_key_unique" on "jetcel_background_run" ("equality_key") where "equality_key" is not null`,
    `create index "jetcel_background_run_status_claimed_until_index" on "jetcel_background_run" ("status", "claimed_until")`,
    `create table "jetcel_schedule_tick" ("schedule" varchar(255) not null, "tick" timestamptz not null, "created_at" timestamptz not null default now(), constraint "jetcel_schedule_tick_pkey" primary key ("schedule", "tick"))`,
  ],
  down: [
    'drop table if exists "jetcel_schedule_tick"',
    'drop table if exists "jetcel_background_run"',
    'drop type if exists "background_run_status"',
  ],
};
