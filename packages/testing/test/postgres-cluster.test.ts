import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import pg from 'pg';
import { startPostgresCluster } from '../src/index.ts';

async function query(url: string, sql: string): Promise<string> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  client.on('error', () => {});
  await client.connect();
  try {
    const { rows } = await client.query<{ v: string }>(sql);
    return rows[0]?.v ?? '';
  } finally {
    await client.end().catch(() => {});
  }
}

test('startPostgresCluster: a private cluster starts, stops, starts again and keeps its data', async () => {
  const cluster = await startPostgresCluster();
  try {
    assert.equal(cluster.url, `postgres://postgres@127.0.0.1:${cluster.port}/postgres`);
    assert.notEqual(cluster.port, 5432);
    assert.match(await query(cluster.url, `SELECT current_setting('server_version') AS v`), /^15\./);
    assert.equal(await query(cluster.url, `SELECT current_setting('port') AS v`), String(cluster.port));
    await query(cluster.url, `CREATE TABLE survives AS SELECT 'yes' AS v`);

    // a long-lived connection sees the outage
    const held = new pg.Client({ connectionString: cluster.url });
    const heldError = new Promise<Error>((resolve) => held.on('error', resolve));
    await held.connect();

    await cluster.stop();
    assert.equal(await cluster.isRunning(), false);
    assert.ok((await heldError) instanceof Error, 'open connections are cut');
    await held.end().catch(() => {});
    await assert.rejects(query(cluster.url, 'SELECT 1 AS v'), /ECONNREFUSED/);
    await cluster.stop(); // no-op when stopped

    await cluster.start();
    assert.equal(await cluster.isRunning(), true);
    assert.equal(await query(cluster.url, 'SELECT v FROM survives'), 'yes');

    await cluster.restart('immediate'); // crash-style stop, then crash recovery
    assert.equal(await query(cluster.url, 'SELECT v FROM survives'), 'yes');
    assert.match(await cluster.log(), /database system is ready to accept connections/);
  } finally {
    await cluster[Symbol.asyncDispose]();
  }
  assert.equal(existsSync(cluster.dataDir), false, 'dispose removes the data dir');
  await assert.rejects(query(cluster.url, 'SELECT 1 AS v'), /ECONNREFUSED/);
});
