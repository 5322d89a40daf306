import type { SqlMigration } from '../migrate.ts';

/** Dead letters, and the takeover count that is a step's crash budget. */
export const deadLetters: SqlMigration = {
  name: 'm005_dead_letters',
  up: [
    `alter table "jetcel_step" add column "takeovers" int not null default 0`,
    `create table "jetcel_dead_letter" ("id" uuid not null, "reason" varchar(32) not null, "detail" text not null default '', "subject" varchar(255) not null, "payload" text not null, "payload_encoding" varchar(8) not null default 'utf8', "headers" jsonb not null default '{}', "execution_id" uuid null, "step_id" uuid null, "delivery_count" int not null default 1, "created_at" timestamptz not null default now(), "redriven_at" timestamptz null, constraint "jetcel_dead_letter_pkey" primary key ("id"))`,
    `create index "jetcel_dead_letter_created_at_index" on "jetcel_dead_letter" ("created_at")`,
    `create index "jetcel_dead_letter_step_id_index" on "jetcel_dead_letter" ("step_id") where "step_id" is not null`,
  ],
  down: ['drop table if exists "jetcel_dead_letter"', 'alter table "jetcel_step" drop column if exists "takeovers"'],
};
