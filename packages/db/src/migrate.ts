import type { Migrator } from '@mikro-orm/migrations';
import { MikroORM } from '@mikro-orm/postgresql';
import { frameworkTables } from './migrations/m001-framework-tables.ts';
import { groupsNestingCancel } from './migrations/m002-groups-nesting-cancel.ts';
import { backgroundAndBeat } from './migrations/m003-background-and-beat.ts';
import { throttling } from './migrations/m004-throttling.ts';
import { deadLetters } from './migrations/m005-dead-letters.ts';
import { retention } from './migrations/m006-retention.ts';
import { unthrottledScopes } from './migrations/m007-unthrottled-scopes.ts';
import { idempotencyPerActor } from './migrations/m008-idempotency-per-actor.ts';
import { deadLetterRedriven } from './migrations/m009-dead-letter-redriven.ts';
import { throttleSlots } from './migrations/m010-throttle-slots.ts';
import { stepCommitFunction } from './migrations/m011-step-commit-function.ts';
import { stepCommitGeneral } from './migrations/m012-step-commit-general.ts';
import { spanEndCommit } from './migrations/m013-span-end-commit.ts';
import { settledHandlerKeyedWaiters } from './migrations/m014-settled-handler-keyed-waiters.ts';
import { successorTransition } from './migrations/m015-successor-transition.ts';
import { fallbackDeleteByKey } from './migrations/m016-fallback-delete-by-key.ts';
import { passNextWaiter } from './migrations/m017-pass-next-waiter.ts';
import { outboxSweepsByIndex } from './migrations/m018-outbox-sweeps-by-index.ts';
import { stepSweepsByIndex } from './migrations/m019-step-sweeps-by-index.ts';
import { versionReadBeside } from './migrations/m020-version-read-beside.ts';
import { scheduleFunction } from './migrations/m021-schedule-function.ts';
import { markPublishedFunction } from './migrations/m022-mark-published-function.ts';
import { resourcePatchFunction } from './migrations/m023-resource-patch-function.ts';
import { localStepsWithoutFallbackRows } from './migrations/m024-local-steps-without-fallback-rows.ts';
import { refreshResourcePatch } from './resource-patch-refresh.ts';

/** A migration written as plain SQL statements (domain packages never touch MikroORM directly). */
export interface SqlMigration {
  name: string;
  up: string[];
  down: string[];
}

/** A named, ordered list of migrations with its own bookkeeping table. */
export interface MigrationSet {
  name: string;
  migrations: SqlMigration[];
}

export const FRAMEWORK_MIGRATIONS: MigrationSet = {
  name: 'jetcel',
  migrations: [
    frameworkTables,
    groupsNestingCancel,
    backgroundAndBeat,
    throttling,
    deadLetters,
    retention,
    unthrottledScopes,
    idempotencyPerActor,
    deadLetterRedriven,
    throttleSlots,
    stepCommitFunction,
    stepCommitGeneral,
    spanEndCommit,
    settledHandlerKeyedWaiters,
    successorTransition,
    fallbackDeleteByKey,
    passNextWaiter,
    outboxSweepsByIndex,
    stepSweepsByIndex,
    versionReadBeside,
    scheduleFunction,
    markPublishedFunction,
    resourcePatchFunction,
    localStepsWithoutFallbackRows,
  ],
};

// Loaded only when migrations run: every service imports this package, few migrate (~9 MiB of RSS).
const loadMigrations = () => import('@mikro-orm/migrations');

function toMigrationClass(Migration: Awaited<ReturnType<typeof loadMigrations>>['Migration'], migration: SqlMigration) {
  return class extends Migration {
    override async up(): Promise<void> {
      for (const statement of migration.up) this.addSql(statement);
    }
    override async down(): Promise<void> {
      for (const statement of migration.down) this.addSql(statement);
    }
  };
}

async function withMigrator<T>(url: string, set: MigrationSet, fn: (migrator: Migrator) => Promise<T>): Promise<T> {
  const { Migration, Migrator } = await loadMigrations();
  const orm = await MikroORM.init({
    clientUrl: url,
    entities: [],
    discovery: { warnWhenNoEntities: false },
    extensions: [Migrator],
    migrations: {
      tableName: `${set.name}_migrations`,
      migrationsList: set.migrations.map((migration) => ({
        name: migration.name,
        class: toMigrationClass(Migration, migration),
      })),
      transactional: true,
      allOrNothing: true,
      snapshot: false,
    },
  });
  try {
    return await fn(orm.getMigrator());
  } finally {
    await orm.close(true);
  }
}

/**
 * Applies every pending migration of each set, in order; returns the names applied. Then writes the
 * resource patch function again for the resource tables there are now (`refreshResourcePatch`).
 */
export async function migrateUp(url: string, sets: MigrationSet[]): Promise<string[]> {
  const applied: string[] = [];
  for (const set of sets) {
    const done = await withMigrator(url, set, (migrator) => migrator.up());
    applied.push(...done.map((migration) => `${set.name}/${migration.name}`));
  }
  await refreshResourcePatch(url);
  return applied;
}

/** Reverts every migration of the given sets, last set first. */
export async function migrateDown(url: string, sets: MigrationSet[]): Promise<string[]> {
  const reverted: string[] = [];
  for (const set of [...sets].reverse()) {
    const done = await withMigrator(url, set, (migrator) => migrator.down({ to: 0 }));
    reverted.push(...done.map((migration) => `${set.name}/${migration.name}`));
  }
  // a domain's tables may be gone, the function still there
  await refreshResourcePatch(url);
  return reverted;
}

export async function pendingMigrations(url: string, sets: MigrationSet[]): Promise<string[]> {
  const pending: string[] = [];
  for (const set of sets) {
    const list = await withMigrator(url, set, (migrator) => migrator.getPendingMigrations());
    pending.push(...list.map((migration) => `${set.name}/${migration.name}`));
  }
  return pending;
}

/** Creates the database named in the URL when it does not exist yet. */
export async function ensureDatabase(url: string): Promise<void> {
  const orm = await MikroORM.init({
    clientUrl: url,
    entities: [],
    discovery: { warnWhenNoEntities: false },
    connect: false,
  });
  try {
    await orm.schema.ensureDatabase();
  } finally {
    await orm.close(true);
  }
}
