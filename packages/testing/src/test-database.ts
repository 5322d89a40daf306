import { spawnSync } from 'node:child_process';
import { newMarker, testDatabaseName } from './database-names.ts';
import { adminUrl, databaseUrl, dropDatabase, quoteIdent, withClient } from './pg-admin.ts';
import { trackCleanup } from './process-registry.ts';

export interface CreateTestDatabaseOptions {
  /** Name prefix (default `jetcel_t`): the database is `<prefix>_<pid>_<random>`. */
  prefix?: string;
}

export interface TestDatabase {
  /** e.g. `jetcel_t_1234_9f86d081` */
  readonly name: string;
  /** e.g. `postgres://postgres@127.0.0.1:5432/jetcel_t_1234_9f86d081` */
  readonly url: string;
  /** Terminates the database's sessions, then drops it. Idempotent. */
  drop(): Promise<void>;
  /** Same as drop(). */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Creates a fresh, uniquely named, empty database on the server of
 * JETCEL_TEST_PG_URL (default postgres://postgres@127.0.0.1:5432/postgres).
 * A database that was not dropped is dropped with psql when the test process
 * exits (best effort); dropStaleTestDatabases() handles crashed runs.
 */
export async function createTestDatabase(options: CreateTestDatabaseOptions = {}): Promise<TestDatabase> {
  const admin = adminUrl();
  const name = testDatabaseName(options.prefix);
  await withClient(admin, async (client) => {
    await client.query(`CREATE DATABASE ${quoteIdent(name)}`);
    await client.query(
      `COMMENT ON DATABASE ${quoteIdent(name)} IS ${client.escapeLiteral(JSON.stringify(newMarker()))}`,
    );
  });
  const untrack = trackCleanup(() => dropWithPsql(admin, name));

  let dropping: Promise<void> | undefined;
  const drop = (): Promise<void> => {
    dropping ??= withClient(admin, (client) => dropDatabase(client, name)).then(untrack, (error: unknown) => {
      dropping = undefined; // allow a retry
      throw error;
    });
    return dropping;
  };

  return { name, url: databaseUrl(admin, name), drop, [Symbol.asyncDispose]: drop };
}

/** Synchronous last-resort drop for process exit. */
function dropWithPsql(admin: string, name: string): void {
  const literal = `'${name.replaceAll("'", "''")}'`;
  spawnSync(
    'psql',
    [
      admin,
      '-q',
      '-c',
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ${literal} AND pid <> pg_backend_pid()`,
      '-c',
      `DROP DATABASE IF EXISTS ${quoteIdent(name)}`,
    ],
    { stdio: 'ignore', timeout: 5_000 },
  );
}
