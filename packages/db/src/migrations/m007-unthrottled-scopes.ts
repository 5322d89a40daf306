import type { SqlMigration } from '../migrate.ts';

/** A limit of -1 switches a scope's throttle off (no lease taken). */
export const unthrottledScopes: SqlMigration = {
  name: 'm007_unthrottled_scopes',
  up: [
    `alter table "jetcel_throttle_limit" drop constraint if exists "jetcel_throttle_limit_limit_check"`,
    `alter table "jetcel_throttle_limit" add constraint "jetcel_throttle_limit_limit_check" check ("limit" >= -1)`,
  ],
  down: [
    `delete from "jetcel_throttle_limit" where "limit" < 0`,
    `alter table "jetcel_throttle_limit" drop constraint if exists "jetcel_throttle_limit_limit_check"`,
    `alter table "jetcel_throttle_limit" add constraint "jetcel_throttle_limit_limit_check" check ("limit" >= 0)`,
  ],
};
