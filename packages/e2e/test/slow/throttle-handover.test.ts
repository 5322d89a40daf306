import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Leases } from '@jetcel/bus';
import type { ServiceProcess } from '@jetcel/testing';
import { Stack } from '../stack.ts';

// Slot hand-over: when a throttled span ends, its slot goes straight to the longest waiter parked in
// the same worker. The fallback recheck is a minute here: only the hand-over can finish in time.

let stack: Stack;
let worker: ServiceProcess;
before(async () => {
  stack = await Stack.start({ buildDelayMs: 1000, env: { THROTTLE_RECHECK_MS: '60000' } });
  await stack.spawn('executor');
  worker = await stack.spawn('worker', { queue: 'regular' });
});
after(async () => {
  await stack?.stop();
});

test('D1: a slot is handed from an ended span to the next parked waiter; one build at a time; nothing leaks', async () => {
  await stack.ok('cmd.cloud_settings.create', { id: 'narrow', name: 'One at a time' });
  await stack.setThrottleLimit('narrow', 1);
  await fetch(`${stack.cloud.url}/stats/reset`, { method: 'POST' });
  const created = await Promise.all(
    Array.from({ length: 4 }, (_, i) =>
      stack.ok<{ id: string }>('cmd.instance.create', { name: `h-${i}`, cloudSettingsId: 'narrow' }),
    ),
  );
  const started = Date.now();
  for (const { id } of created) await stack.waitForState(id, 'OK', 30_000);
  assert.ok(Date.now() - started < 30_000, 'no waiter waited for its one-minute fallback');
  const handOvers = worker.output().filter((line) => line.includes('throttle slot handed over'));
  assert.equal(handOvers.length, 3, 'each ended span handed its slot to the next waiter');
  const stats = (await fetch(`${stack.cloud.url}/stats`).then((r) => r.json())) as {
    settings: Record<string, { peakBuilding: number; serversCreated: number }>;
  };
  assert.equal(stats.settings.narrow?.peakBuilding, 1, 'never two builds at once');
  assert.equal(stats.settings.narrow?.serversCreated, 4);
  assert.deepEqual(await (await Leases.open(stack.bus)).entries(), [], 'the last span released its slot');
  assert.equal((await stack.sql('select * from jetcel_throttle_waiter')).length, 0);
  const attempts = await stack.sql<{ attempts: number }>(
    "select attempts from jetcel_step where task = 'instance.create_server'",
  );
  assert.ok(
    attempts.every((row) => row.attempts === 1),
    'a hand-over is not a failed attempt',
  );
});
