import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Leases } from '@jetcel/bus';
import { eventually, type ServiceProcess } from '@jetcel/testing';
import { Stack } from '../stack.ts';

// Throttling with two worker-regular processes: the cloud's own count of concurrent builds is
// the judge, not jetcel's bookkeeping.

let stack: Stack;
let workers: ServiceProcess[] = [];
const env = { THROTTLE_RECHECK_MS: '500', JETCEL_CLAIM_TTL_MS: '3000', JETCEL_CLAIM_GRACE_MS: '500' };
before(async () => {
  stack = await Stack.start({ buildDelayMs: 1000, env });
  await stack.spawn('executor');
  workers = [await stack.spawn('worker', { queue: 'regular' }), await stack.spawn('worker', { queue: 'regular' })];
  await stack.ok('cmd.cloud_settings.create', { id: 'cloud-b', name: 'Second cloud' });
});
after(async () => {
  await stack?.stop();
});

interface Stats {
  settings: Record<string, { peakBuilding: number; serversCreated: number }>;
}
const stats = async (): Promise<Stats> => (await fetch(`${stack.cloud.url}/stats`).then((r) => r.json())) as Stats;

test('D1/D2/D4: 20 creates on one cloud with limit 4 never build more than 4 at once; another cloud does not wait behind them', async () => {
  await fetch(`${stack.cloud.url}/stats/reset`, { method: 'POST' });
  const started = Date.now();
  const first = await Promise.all(
    Array.from({ length: 20 }, (_, i) =>
      stack.ok<{ id: string }>('cmd.instance.create', { name: `a-${i}`, cloudSettingsId: 'default' }),
    ),
  );
  const second = await Promise.all(
    Array.from({ length: 4 }, (_, i) =>
      stack.ok<{ id: string }>('cmd.instance.create', { name: `b-${i}`, cloudSettingsId: 'cloud-b' }),
    ),
  );
  // While they wait, throttled creates stay CREATION_SCHEDULED (the lease is taken before begin_creating).
  await eventually(async () => {
    const [row] = await stack.sql<{ building: string; waiting: string }>(
      `select count(*) filter (where state = 'CREATING') as building, count(*) filter (where state = 'CREATION_SCHEDULED') as waiting
       from ref_instance where cloud_settings_id = 'default' and name like 'a-%'`,
    );
    return Number(row?.building) <= 4 && Number(row?.waiting) >= 10;
  });
  for (const { id } of second) await stack.waitForState(id, 'OK', 20_000);
  const secondDoneAfter = Date.now() - started;
  for (const { id } of first) await stack.waitForState(id, 'OK', 60_000);
  const firstDoneAfter = Date.now() - started;
  const peaks = await stats();
  assert.equal(peaks.settings.default?.peakBuilding, 4, 'exactly 4 at once, never 5');
  assert.equal(peaks.settings.default?.serversCreated, 20);
  assert.ok((peaks.settings['cloud-b']?.peakBuilding ?? 0) >= 2, 'the second cloud built in parallel');
  assert.ok(
    secondDoneAfter < firstDoneAfter - 1500,
    `cloud-b finished at ${secondDoneAfter} ms, default at ${firstDoneAfter} ms`,
  );
  const leaked = await (await Leases.open(stack.bus)).entries();
  assert.deepEqual(leaked, [], 'every lease was released');
  assert.equal((await stack.sql('select * from jetcel_throttle_waiter')).length, 0);
  const attempts = await stack.sql<{ attempts: number }>(
    "select attempts from jetcel_step where task = 'instance.create_server'",
  );
  assert.ok(
    attempts.every((row) => row.attempts === 1),
    'waiting does not count as a failed attempt',
  );
});

test('D1: SIGKILL of a worker mid-build: the executions go on under the same leases; the peak stays ≤ 4; all end OK', async () => {
  await fetch(`${stack.cloud.url}/stats/reset`, { method: 'POST' });
  await fetch(`${stack.cloud.url}/config`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ buildDelayMs: 4000 }),
  });
  const created = await Promise.all(
    Array.from({ length: 8 }, (_, i) =>
      stack.ok<{ id: string; executionId: string }>('cmd.instance.create', {
        name: `k-${i}`,
        cloudSettingsId: 'default',
      }),
    ),
  );
  const ids = created.map((row) => row.executionId);
  const building = await eventually(async () => {
    const rows = await stack.sql<{ id: string; lease: { token: string; key: string } | null }>(
      'select id, lease from jetcel_execution where id = any($1) and lease is not null',
      [ids],
    );
    return rows.length === 4 ? rows : undefined;
  });
  const [victim, survivor] = workers;
  assert.ok(victim && survivor);
  victim.kill('SIGKILL');
  workers = [survivor, await stack.spawn('worker', { queue: 'regular' })];
  for (const { id } of created) await stack.waitForState(id, 'OK', 60_000);
  const after = await stack.sql<{ id: string; lease: { token: string; key: string } }>(
    'select id, lease from jetcel_execution where id = any($1)',
    [building.map((row) => row.id)],
  );
  for (const row of building) {
    const later = after.find((candidate) => candidate.id === row.id);
    assert.equal(later?.lease.token, row.lease?.token, 'the execution kept the lease it had before the kill');
  }
  const peaks = await stats();
  assert.ok((peaks.settings.default?.peakBuilding ?? 99) <= 4, `peak ${peaks.settings.default?.peakBuilding}`);
  assert.equal(peaks.settings.default?.serversCreated, 8, 'no build was started twice');
  await fetch(`${stack.cloud.url}/config`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ buildDelayMs: 1000 }),
  });
});

test('D1: a scope limit changes without a restart', async () => {
  await stack.ok('cmd.cloud_settings.create', { id: 'tunable', name: 'Tunable' });
  await stack.setThrottleLimit('tunable', 1);
  await fetch(`${stack.cloud.url}/config`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ buildDelayMs: 800 }),
  });
  await fetch(`${stack.cloud.url}/stats/reset`, { method: 'POST' });
  const one = await Promise.all(
    Array.from({ length: 3 }, (_, i) =>
      stack.ok<{ id: string }>('cmd.instance.create', { name: `one-${i}`, cloudSettingsId: 'tunable' }),
    ),
  );
  for (const { id } of one) await stack.waitForState(id, 'OK', 30_000);
  let peaks = (await fetch(`${stack.cloud.url}/stats`).then((r) => r.json())) as {
    settings: Record<string, { peakBuilding: number }>;
  };
  assert.equal(peaks.settings.tunable?.peakBuilding, 1);
  await stack.setThrottleLimit('tunable', 3);
  await fetch(`${stack.cloud.url}/stats/reset`, { method: 'POST' });
  const three = await Promise.all(
    Array.from({ length: 3 }, (_, i) =>
      stack.ok<{ id: string }>('cmd.instance.create', { name: `three-${i}`, cloudSettingsId: 'tunable' }),
    ),
  );
  for (const { id } of three) await stack.waitForState(id, 'OK', 30_000);
  peaks = (await fetch(`${stack.cloud.url}/stats`).then((r) => r.json())) as {
    settings: Record<string, { peakBuilding: number }>;
  };
  assert.equal(peaks.settings.tunable?.peakBuilding, 3);
});
