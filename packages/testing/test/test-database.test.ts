import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { test } from 'node:test';
import pg from 'pg';
import { createTestDatabase, dropStaleTestDatabases } from '../src/index.ts';

const ADMIN_URL = process.env['JETCEL_TEST_PG_URL'] || 'postgres://postgres@127.0.0.1:5432/postgres';

async function withAdmin<R>(work: (client: pg.Client) => Promise<R>): Promise<R> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

async function databaseExists(name: string): Promise<boolean> {
  return withAdmin(
    async (client) => (await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount === 1,
  );
}

test('createTestDatabase: creates a fresh, uniquely named database that drop() removes', async () => {
  const db = await createTestDatabase();
  assert.match(db.name, new RegExp(`^jetcel_t_${process.pid}_[0-9a-f]{8}$`));
  assert.equal(db.url, `postgres://postgres@127.0.0.1:5432/${db.name}`);
  assert.equal(await databaseExists(db.name), true);

  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  const { rows } = await client.query<{ db: string; tables: string }>(
    `SELECT current_database() AS db, count(*)::text AS tables FROM pg_tables WHERE schemaname = 'public'`,
  );
  assert.deepEqual(rows, [{ db: db.name, tables: '0' }]);
  await client.query('CREATE TABLE t (id int primary key)');
  await client.end();

  const other = await createTestDatabase();
  assert.notEqual(other.name, db.name);

  await db.drop();
  assert.equal(await databaseExists(db.name), false);
  await db.drop(); // idempotent
  await other[Symbol.asyncDispose]();
  assert.equal(await databaseExists(other.name), false);
});

test('createTestDatabase: drop() terminates open connections first', async () => {
  const db = await createTestDatabase({ prefix: 'jetcel_t' });
  const client = new pg.Client({ connectionString: db.url });
  const clientError = new Promise<Error>((resolve) => client.on('error', resolve));
  await client.connect();
  await client.query('SELECT 1');
  await db.drop();
  assert.equal(await databaseExists(db.name), false);
  assert.match((await clientError).message, /terminat/i);
  await client.end().catch(() => {});
});

test('createTestDatabase: a custom prefix is used and validated', async () => {
  const db = await createTestDatabase({ prefix: 'jetcel_tx' });
  try {
    assert.match(db.name, /^jetcel_tx_\d+_[0-9a-f]{8}$/);
    assert.equal(await databaseExists(db.name), true);
  } finally {
    await db.drop();
  }
  await assert.rejects(createTestDatabase({ prefix: 'Bad-Prefix' }), /invalid test database prefix/);
});

test('dropStaleTestDatabases: drops old databases of dead pids only', async () => {
  // a pid that certainly existed and is now gone
  const dead = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
  const deadPid = Number(dead.stdout.trim());
  assert.ok(deadPid > 0);
  // a prefix of its own, so this test never touches other runs' databases
  const prefix = 'jetcel_tstale';
  const stale = `${prefix}_${deadPid}_5ca1ab1e`;
  const fresh = `${prefix}_${deadPid}_f00dcafe`;
  const mine = await createTestDatabase({ prefix }); // this process is alive: never stale
  const marker = (createdAt: number): string => JSON.stringify({ pid: deadPid, host: hostname(), createdAt });
  await withAdmin(async (client) => {
    for (const name of [stale, fresh]) await client.query(`DROP DATABASE IF EXISTS "${name}"`);
    await client.query(`CREATE DATABASE "${stale}"`);
    await client.query(`COMMENT ON DATABASE "${stale}" IS ${client.escapeLiteral(marker(Date.now() - 3_600_000))}`);
    await client.query(`CREATE DATABASE "${fresh}"`);
    await client.query(`COMMENT ON DATABASE "${fresh}" IS ${client.escapeLiteral(marker(Date.now()))}`);
  });
  try {
    const dropped = await dropStaleTestDatabases(60_000, { prefix });
    assert.ok(dropped.includes(stale), `dropped: ${dropped.join(', ')}`);
    assert.ok(!dropped.includes(fresh));
    assert.ok(!dropped.includes(mine.name));
    assert.equal(await databaseExists(stale), false);
    assert.equal(await databaseExists(fresh), true);
    assert.equal(await databaseExists(mine.name), true);

    assert.ok((await dropStaleTestDatabases(0, { prefix })).includes(fresh));
    assert.equal(await databaseExists(mine.name), true);
  } finally {
    await withAdmin(async (client) => {
      for (const name of [stale, fresh]) await client.query(`DROP DATABASE IF EXISTS "${name}"`);
    });
    await mine.drop();
  }
});
