import type { SqlMigration } from '../migrate.ts';

/** Retention prunes re-driven dead letters by `redriven_at`; the others are never pruned. */
export const deadLetterRedriven: SqlMigration = {
  name: 'm009_dead_letter_redriven',
  up: [
    `create index "jetcel_dead_letter_redriven_at_index" on "jetcel_dead_letter" ("redriven_at") where "redriven_at" is not null`,
  ],
  down: ['drop index if exists "jetcel_dead_letter_redriven_at_index"'],
};
