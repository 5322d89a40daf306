import type { SqlMigration } from '../migrate.ts';

/** Groups with a fan-in counter, nested executions, waiting steps and the pre-operation snapshot. */
export const groupsNestingCancel: SqlMigration = {
  name: 'm002_groups_nesting_cancel',
  up: [
    `alter type "step_status" add value if not exists 'waiting'`,
    `alter table "jetcel_step" add column "member" int not null default 0`,
    `alter table "jetcel_step" drop constraint "jetcel_step_execution_id_role_position_unique"`,
    `alter table "jetcel_step" add constraint "jetcel_step_execution_id_role_position_member_unique" unique ("execution_id", "role", "position", "member")`,
    `alter table "jetcel_execution" add column "parent_step_id" uuid null`,
    `alter table "jetcel_execution" add column "resource_before" jsonb null`,
    `create index "jetcel_execution_parent_step_id_index" on "jetcel_execution" ("parent_step_id") where "parent_step_id" is not null`,
    `create table "jetcel_group" ("id" uuid not null, "execution_id" uuid not null, "position" int not null, "policy" varchar(16) not null, "size" int not null, "remaining" int not null, "failed" boolean not null default false, "failure" jsonb null, "created_at" timestamptz not null default now(), constraint "jetcel_group_pkey" primary key ("id"), constraint "jetcel_group_execution_id_position_unique" unique ("execution_id", "position"), constraint "jetcel_group_execution_id_foreign" foreign key ("execution_id") references "jetcel_execution" ("id") on delete cascade)`,
  ],
  down: [
    'drop table if exists "jetcel_group"',
    'drop index if exists "jetcel_execution_parent_step_id_index"',
    'alter table "jetcel_execution" drop column if exists "resource_before"',
    'alter table "jetcel_execution" drop column if exists "parent_step_id"',
    'alter table "jetcel_step" drop constraint if exists "jetcel_step_execution_id_role_position_member_unique"',
    'alter table "jetcel_step" add constraint "jetcel_step_execution_id_role_position_unique" unique ("execution_id", "role", "position")',
    'alter table "jetcel_step" drop column if exists "member"',
  ],
};
