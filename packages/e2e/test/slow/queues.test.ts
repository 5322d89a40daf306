import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { consumerInfo, streamInfo } from '@jetcel/bus';
import { dataOf, Stack } from '../stack.ts';

let stack: Stack;
before(async () => {
  stack = await Stack.start({ buildDelayMs: 1500 });
  await stack.spawn('executor');
});
after(async () => {
  await stack?.stop();
});

test('C3: each worker service consumes only its own stream', async () => {
  await stack.spawn('worker', { queue: 'heavy' });
  await stack.spawn('worker', { queue: 'background' });
  const created = dataOf<{ id: string }>(
    await stack.request('cmd.instance.create', { name: 'regular-only', cloudSettingsId: 'default' }),
  );
  await new Promise((resolve) => setTimeout(resolve, 1500));
  assert.equal(
    (await streamInfo(stack.bus, 'TASKS_REGULAR')).messages,
    1,
    'the regular task waits for a regular worker',
  );
  assert.equal(
    (await stack.sql<{ state: string }>('select state from ref_instance where id = $1', [created.id]))[0]?.state,
    'CREATION_SCHEDULED',
  );
  for (const queue of ['heavy', 'background']) {
    const info = await consumerInfo(stack.bus, `TASKS_${queue.toUpperCase()}`, `worker-${queue}`);
    assert.equal(info.numAckPending, 0);
  }
  await stack.spawn('worker', { queue: 'regular', env: { WORKER_CONCURRENCY: '1' } });
  await stack.waitForState(created.id, 'OK');
  const steps = await stack.sql<{ queue: string; worker: string }>(
    'select s.queue, s.worker from jetcel_step s join jetcel_execution e on e.id = s.execution_id where e.resource_id = $1',
    [created.id],
  );
  assert.ok(steps.length >= 3);
  assert.ok(steps.every((step) => step.queue === 'regular' && step.worker.endsWith(':regular')));
});

test('C5: polling creates hold no worker slot between polls (4 builds of 1.5 s on one slot finish together)', async () => {
  const started = Date.now();
  const ids = await Promise.all(
    Array.from(
      { length: 4 },
      async (_, index) =>
        dataOf<{ id: string }>(
          await stack.request('cmd.instance.create', { name: `poller-${index}`, cloudSettingsId: 'default' }),
        ).id,
    ),
  );
  let maxAckPending = 0;
  for (const id of ids) {
    await stack.waitForState(id, 'OK', 20_000);
    maxAckPending = Math.max(
      maxAckPending,
      (await consumerInfo(stack.bus, 'TASKS_REGULAR', 'worker-regular')).numAckPending,
    );
  }
  const elapsed = Date.now() - started;
  // Parked polls would serialise the builds on the single slot: at least 4 × 1.5 s.
  assert.ok(elapsed < 4500, `all four builds overlapped on one worker slot (took ${elapsed} ms)`);
  assert.ok(maxAckPending <= 1);
  const polls = await stack.sql<{ polls: number }>(
    "select polls from jetcel_step where task = 'instance.poll_server' and status = 'succeeded'",
  );
  assert.ok(polls.length >= 4 && polls.every((row) => row.polls >= 1), 'every build was polled through the outbox');
  const stats = (await fetch(`${stack.cloud.url}/stats`).then((response) => response.json())) as {
    settings: Record<string, { peakBuilding: number }>;
  };
  assert.ok((stats.settings.default?.peakBuilding ?? 0) >= 4, 'the cloud saw the four builds at once');
});
