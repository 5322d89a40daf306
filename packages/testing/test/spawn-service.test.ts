import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { freePort, spawnService } from '../src/index.ts';

const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));
const echo = `${fixtures}echo-service.ts`;
const workspaceRoot = fileURLToPath(new URL('../../../', import.meta.url));

test('freePort: returns a port that can be listened on', async () => {
  const port = await freePort();
  assert.ok(Number.isInteger(port) && port > 1024 && port < 65536);
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  await new Promise((resolve) => server.close(resolve));
  assert.notEqual(await freePort(), 0);
});

test('spawnService: waits for the ready line, collects both streams, passes args and env', async () => {
  const port = await freePort();
  const service = await spawnService({
    cwd: fixtures,
    entry: 'echo-service.ts',
    args: ['--flag', 'value'],
    env: { PORT: String(port), FIXTURE_GREETING: 'hello' },
    readyLine: /^ready on port \d+$/,
  });
  try {
    assert.equal(service.pid, service.child.pid);
    const lines = service.output();
    assert.ok(lines.includes(`ready on port ${port}`), lines.join('\n'));
    assert.ok(lines.includes('args=["--flag","value"]'));
    assert.ok(lines.includes('env FIXTURE_GREETING=hello'), 'stderr lines are collected too');
    assert.ok(lines.includes(`starting pid=${service.pid} cwd=${fixtures.replace(/\/$/, '')}`));
    // waitForLine also finds a line that was already printed
    assert.equal(await service.waitForLine(/^args=/, 100), 'args=["--flag","value"]');
  } finally {
    await service.stop();
  }
});

test('spawnService: kill() defaults to SIGKILL and exited resolves with null', async () => {
  const service = await spawnService({
    cwd: fixtures,
    entry: echo,
    readyLine: /^ready/,
    env: { FIXTURE_ON_SIGTERM: 'ignore' },
  });
  service.kill();
  assert.equal(await service.exited, null);
  assert.equal(service.child.signalCode, 'SIGKILL');
  assert.throws(() => process.kill(service.pid, 0), { code: 'ESRCH' });
  await assert.rejects(service.waitForLine(/never printed/, 1_000), /process exited/);
});

test('spawnService: stop() sends SIGTERM and resolves with the exit code', async () => {
  const service = await spawnService({
    cwd: fixtures,
    entry: echo,
    readyLine: /^ready/,
    env: { FIXTURE_EXIT_CODE: '7' },
  });
  assert.equal(await service.stop(), 7);
  assert.equal(await service.exited, 7);
  assert.ok(service.output().includes('got SIGTERM, shutting down'));
  assert.equal(await service.stop(), 7, 'stop() on an exited service just reports the code');
});

test('spawnService: tsx resolves from a nested workspace dir (services/cloud)', async () => {
  const service = await spawnService({ cwd: `${workspaceRoot}services/cloud`, entry: echo, readyLine: /^ready/ });
  try {
    assert.ok(service.output().includes(`starting pid=${service.pid} cwd=${workspaceRoot}services/cloud`));
  } finally {
    await service.stop();
  }
});

test('spawnService: rejects with the output when the service dies before its ready line', async () => {
  await assert.rejects(
    spawnService({ cwd: fixtures, entry: 'crash-service.ts', readyLine: /^ready/ }),
    /process exited \(code 3[\s\S]*fatal: cannot start/,
  );
});

test('spawnService: rejects when the ready line does not come in time, and kills the child', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'jetcel-spawn-test-'));
  const pidFile = join(dir, 'pid');
  try {
    const started = Date.now();
    await assert.rejects(
      spawnService({
        cwd: fixtures,
        entry: echo,
        readyLine: /^never$/,
        // long enough for the child to start and write its pid file on a busy machine
        timeoutMs: 5_000,
        env: { FIXTURE_PID_FILE: pidFile },
      }),
      /timed out after 5000 ms/,
    );
    assert.ok(Date.now() - started < 15_000);
    const pid = Number(await readFile(pidFile, 'utf8'));
    assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' }, 'the child was killed');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('spawnService: fails clearly when tsx cannot be resolved from cwd', async () => {
  await assert.rejects(spawnService({ cwd: '/', entry: echo }), /tsx cannot be resolved from \//);
});
