import type { SqlMigration } from '../migrate.ts';

/** Throttling: the step that enters a span, the execution's lease, per-scope limits and the waiters. */
export const throttling: SqlMigration = {
  name: 'm004_throttling',
  up: [
    `alter table "jetcel_step" add column "throttled" boolean not null default false`,
    `alter table "jetcel_execution" add column "lease" jsonb null`,
    `create table "jetcel_throttle_limit" ("kind" varchar(64) not null, "scope" varchar(255) not null, "limit" int not null check ("limit" >= 0), "updated_at" timestamptz not null default now(), constraint "jetcel_throttle_limit_pkey" primary key ("kind", "scope"))`,
    `create table "jetcel_throttle_waiter" ("execution_id" uuid not null, "step_id" uuid not null, "kind" varchar(64) not null, "scope" varchar(255) not null, "since" timestamptz not null default clock_timestamp(), constraint "jetcel_throttle_waiter_pkey" primary key ("execution_id"), constraint "jetcel_throttle_waiter_execution_id_foreign" foreign key ("execution_id") references "jetcel_execution" ("id") on delete cascade)`,
    `create index "jetcel_throttle_waiter_queue_index" on "jetcel_throttle_waiter" ("kind", "scope", "since")`,
  ],
  down: [
    'drop table if exists "jetcel_throttle_waiter"',
    'drop table if exists "jetcel_throttle_limit"',
    'alter table "jetcel_execution" drop column if exists "lease"',
    'alter table "jetcel_step" drop column if exists "throttled"',
  ],
};
