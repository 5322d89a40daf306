import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  createTestDatabase,
  eventually,
  spawnService,
  startNats,
  type NatsServerHandle,
  type TestDatabase,
} from '@jetcel/testing';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../../../..');

let nats: NatsServerHandle | undefined;
let database: TestDatabase | undefined;
after(async () => {
  await database?.drop();
  await nats?.[Symbol.asyncDispose]();
});

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

test('SIGTERM to pnpm dev stops every process it started, a domain dev process that ignores SIGTERM too', async () => {
  nats = await startNats();
  database = await createTestDatabase({ prefix: 'dev' });
  const dev = await spawnService({
    cwd: root,
    entry: 'scripts/dev.ts',
    env: {
      NATS_URL: nats.url,
      DATABASE_URL: database.url,
      JETCEL_DOMAINS: resolve(here, '../fixtures/dev-domain.ts'),
      LOG_LEVEL: 'info',
    },
  });
  const ready = [/^polite +\| up/, /^stubborn +\| up/, /^executor .*executor ready/, /^beat .*beat ready/];
  for (const queue of ['regular', 'heavy', 'background']) ready.push(new RegExp(`^worker-${queue} .*worker ready`));
  for (const line of ready) await dev.waitForLine(line, 120_000);
  const pids = dev
    .output()
    .map((line) => /started (\S+) \(pid (\d+)\)/.exec(line))
    .filter((match) => match !== null)
    .map((match) => ({ name: match[1], pid: Number(match[2]) }));
  assert.deepEqual(
    pids.map((entry) => entry.name),
    [
      'migrate',
      'topology',
      'polite',
      'stubborn',
      'executor',
      'worker-regular',
      'worker-heavy',
      'worker-background',
      'beat',
    ],
  );
  const running = pids.filter((entry) => alive(entry.pid));
  assert.equal(running.length, 7, 'the two jobs are done; every long-running process runs');
  dev.kill('SIGTERM');
  assert.equal(await dev.exited, 0);
  await eventually(async () => (running.every((entry) => !alive(entry.pid)) ? true : undefined), {
    timeoutMs: 5_000,
    message: `still running: ${JSON.stringify(running.filter((entry) => alive(entry.pid)))}`,
  });
});
