import type { SqlMigration } from '../migrate.ts';

/**
 * Idempotency keys belong to an actor: (actor, subject, key) is the key. Rows written before have
 * actor '' (no real actor is empty), so they never replay again and retention prunes them.
 */
export const idempotencyPerActor: SqlMigration = {
  name: 'm008_idempotency_per_actor',
  up: [
    `alter table "jetcel_idempotency_key" add column "actor" varchar(255) not null default ''`,
    `alter table "jetcel_idempotency_key" drop constraint "jetcel_idempotency_key_pkey"`,
    `alter table "jetcel_idempotency_key" add constraint "jetcel_idempotency_key_pkey" primary key ("actor", "subject", "key")`,
  ],
  down: [
    // Only one row per (subject, key) can stay: the oldest, as if the others had never been stored.
    `delete from "jetcel_idempotency_key" a using "jetcel_idempotency_key" b
      where a."subject" = b."subject" and a."key" = b."key"
        and (a."created_at", a."actor") > (b."created_at", b."actor")`,
    `alter table "jetcel_idempotency_key" drop constraint "jetcel_idempotency_key_pkey"`,
    `alter table "jetcel_idempotency_key" add constraint "jetcel_idempotency_key_pkey" primary key ("subject", "key")`,
    `alter table "jetcel_idempotency_key" drop column "actor"`,
  ],
};
