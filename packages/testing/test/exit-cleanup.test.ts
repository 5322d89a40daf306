import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import pg from 'pg';
import { eventually, spawnService } from '../src/index.ts';

const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));
const ADMIN_URL = process.env['JETCEL_TEST_PG_URL'] || 'postgres://postgres@127.0.0.1:5432/postgres';

interface Resources {
  natsPid: number;
  natsPort: number;
  natsStoreDir: string;
  pgPort: number;
  pgDataDir: string;
  dbName: string;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function processGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
}

async function databaseExists(name: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    return (await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount === 1;
  } finally {
    await client.end();
  }
}

async function assertCleanedUp(r: Resources): Promise<void> {
  await eventually(() => processGone(r.natsPid), {
    timeoutMs: 5_000,
    message: `nats-server ${r.natsPid} outlived its test process`,
  });
  assert.equal(await accepts(r.natsPort), false, 'the NATS port is closed');
  assert.equal(existsSync(dirname(r.natsStoreDir)), false, 'the NATS temp dir is removed');
  assert.equal(await accepts(r.pgPort), false, 'the private PostgreSQL cluster is stopped');
  assert.equal(existsSync(r.pgDataDir), false, 'its data dir is removed');
  assert.equal(await databaseExists(r.dbName), false, 'the test database is dropped');
}

async function run(
  mode: 'exit' | 'wait',
): Promise<{ resources: Resources; code: number | null; signal: NodeJS.Signals | null }> {
  const service = await spawnService({
    cwd: fixtures,
    entry: 'orphan-maker.ts',
    args: [mode],
    readyLine: /^resources /,
    timeoutMs: 20_000,
  });
  const line = await service.waitForLine(/^resources /);
  const resources = JSON.parse(line.slice('resources '.length)) as Resources;
  if (mode === 'wait') {
    // still running (in 'exit' mode the process is already leaving)
    assert.equal(await accepts(resources.natsPort), true);
    assert.equal(await accepts(resources.pgPort), true);
  }
  const code = mode === 'exit' ? await service.exited : await service.stop();
  return { resources, code, signal: service.child.signalCode };
}

test('exit cleanup: servers, cluster and database do not outlive a process that calls process.exit()', async () => {
  const { resources, code } = await run('exit');
  assert.equal(code, 0);
  await assertCleanedUp(resources);
});

test('exit cleanup: the same on SIGTERM, and the process still dies of SIGTERM', async () => {
  const { resources, code, signal } = await run('wait');
  assert.equal(code, null);
  assert.equal(signal, 'SIGTERM');
  await assertCleanedUp(resources);
});
