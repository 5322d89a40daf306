import type { SqlMigration } from '../migrate.ts';

/** jetcel's own tables: executions, steps, outbox, idempotency keys, and the resource state type. */
export const frameworkTables: SqlMigration = {
  name: 'm001_framework_tables',
  up: [
    `create type "resource_state" as enum ('CREATION_SCHEDULED', 'CREATING', 'UPDATE_SCHEDULED', 'UPDATING', 'DELETION_SCHEDULED', 'DELETING', 'OK', 'ERRED')`,
    `create type "execution_status" as enum ('running', 'cancel_requested', 'succeeded', 'failed', 'cancelled')`,
    `create type "step_role" as enum ('main', 'success', 'failure')`,
    `create type "step_status" as enum ('queued', 'running', 'succeeded', 'failed', 'cancelled', 'dead')`,
    `create table "jetcel_execution" ("id" uuid not null, "executor" varchar(255) not null, "resource_type" varchar(255) not null, "resource_id" varchar(255) not null, "status" "execution_status" not null default 'running', "plan" jsonb not null, "params" jsonb not null default '{}', "actor" varchar(255) null, "error_message" text not null default '', "error_traceback" text not null default '', "created_at" timestamptz not null default now(), "updated_at" timestamptz not null default now(), "finished_at" timestamptz null, constraint "jetcel_execution_pkey" primary key ("id"))`,
    `create index "jetcel_execution_resource_type_resource_id_index" on "jetcel_execution" ("resource_type", "resource_id")`,
    `create index "jetcel_execution_status_created_at_index" on "jetcel_execution" ("status", "created_at")`,
    `create table "jetcel_idempotency_key" ("subject" varchar(255) not null, "key" varchar(255) not null, "request_hash" varchar(255) not null, "reply" text not null, "created_at" timestamptz not null default now(), constraint "jetcel_idempotency_key_pkey" primary key ("subject", "key"))`,
    `create table "jetcel_outbox" ("id" uuid not null, "subject" varchar(255) not null, "payload" text not null, "headers" jsonb not null default '{}', "not_before" timestamptz not null default now(), "created_at" timestamptz not null default now(), "lease_until" timestamptz null, "published_at" timestamptz null, "attempts" int not null default 0, "last_error" text null, constraint "jetcel_outbox_pkey" primary key ("id"))`,
    // The relay only ever looks at unpublished rows: keep that scan small as published rows pile up.
    `create index "jetcel_outbox_unpublished_index" on "jetcel_outbox" ("not_before") where "published_at" is null`,
    `create table "jetcel_step" ("id" uuid not null, "execution_id" uuid not null, "role" "step_role" not null, "position" int not null, "task" varchar(255) not null, "queue" varchar(255) not null, "args" jsonb null, "resource_ref" varchar(255) null, "before" jsonb null, "ignore_errors" boolean not null default false, "status" "step_status" not null default 'queued', "attempts" int not null default 1, "polls" int not null default 0, "prepared" boolean not null default false, "claim_token" uuid null, "claimed_until" timestamptz null, "worker" varchar(255) null, "queued_at" timestamptz not null default now(), "not_before" timestamptz not null default now(), "started_at" timestamptz null, "finished_at" timestamptz null, "error_message" text not null default '', "error_traceback" text not null default '', "result" jsonb null, constraint "jetcel_step_pkey" primary key ("id"))`,
    `create index "jetcel_step_status_claimed_until_index" on "jetcel_step" ("status", "claimed_until")`,
    `alter table "jetcel_step" add constraint "jetcel_step_execution_id_role_position_unique" unique ("execution_id", "role", "position")`,
    `alter table "jetcel_step" add constraint "jetcel_step_execution_id_foreign" foreign key ("execution_id") references "jetcel_execution" ("id") on update cascade on delete cascade`,
  ],
  down: [
    'drop table if exists "jetcel_step"',
    'drop table if exists "jetcel_outbox"',
    'drop table if exists "jetcel_idempotency_key"',
    'drop table if exists "jetcel_execution"',
    'drop type if exists "step_status"',
    'drop type if exists "step_role"',
    'drop type if exists "execution_status"',
    'drop type if exists "resource_state"',
  ],
};
