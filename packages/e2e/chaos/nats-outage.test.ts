import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually } from '@jetcel/testing';
import { Stack } from '../test/stack.ts';

// NATS outage: the broker goes away for 10 s under load and comes back with the same store. Every
// service reconnects by itself; nothing committed is lost; no step commits twice — although the
// restarted server accepts message ids it had seen and in-flight steps are redelivered.

let stack: Stack;
before(async () => {
  stack = await Stack.start({
    buildDelayMs: 1500,
    env: { JETCEL_CLAIM_TTL_MS: '5000', JETCEL_CLAIM_GRACE_MS: '1000' },
  });
  await stack.spawn('executor');
  await stack.spawn('worker', { queue: 'regular' });
  await stack.spawn('worker', { queue: 'regular' });
});
after(async () => {
  await stack?.stop();
});

test('G4: a 10 s NATS outage under load loses nothing and commits nothing twice', { timeout: 180_000 }, async () => {
  await stack.setThrottleLimit('default', 50);
  const before = await Promise.all(
    Array.from({ length: 30 }, (_, i) =>
      stack.ok<{ id: string; executionId: string }>('cmd.instance.create', {
        name: `pre-${i}`,
        cloudSettingsId: 'default',
      }),
    ),
  );
  await new Promise((resolve) => setTimeout(resolve, 700));
  await stack.nats.stop();
  const downAt = Date.now();
  // While the broker is away, commits keep landing in the outbox: the relay cannot publish them.
  await new Promise((resolve) => setTimeout(resolve, 10_000));
  await stack.nats.restart();
  const upAfter = Date.now() - downAt;
  // The services reconnect by themselves; the test's own client too.
  const afterIds = await eventually(
    async () => {
      try {
        return await Promise.all(
          Array.from({ length: 10 }, (_, i) =>
            stack.ok<{ id: string; executionId: string }>(
              'cmd.instance.create',
              { name: `post-${i}`, cloudSettingsId: 'default' },
              { 'Idempotency-Key': `post-${i}` },
            ),
          ),
        );
      } catch {
        return undefined;
      }
    },
    { timeoutMs: 30_000, intervalMs: 500, message: 'commands are answered again after the restart' },
  );
  const all = [...before, ...afterIds];
  for (const { id } of all) await stack.waitForState(id, 'OK', 90_000);
  const duplicates = await stack.sql<{ execution_id: string; n: string }>(
    `select execution_id, count(*) as n from jetcel_step where execution_id = any($1) and role = 'main' and task = 'instance.create_server'
     group by execution_id having count(*) <> 1`,
    [all.map((row) => row.executionId)],
  );
  assert.deepEqual(duplicates, [], 'one create step per execution');
  const succeeded = await stack.sql<{ n: string }>(
    "select count(*) as n from jetcel_execution where id = any($1) and status = 'succeeded'",
    [all.map((row) => row.executionId)],
  );
  assert.equal(Number(succeeded[0]?.n), all.length);
  const stats = (await fetch(`${stack.cloud.url}/stats`).then((r) => r.json())) as {
    settings: Record<string, { serversCreated: number }>;
  };
  assert.equal(stats.settings.default?.serversCreated, all.length, 'exactly one server per instance at the cloud');
  const events = await stack.sql<{ n: string; d: string }>(
    "select count(*) as n, count(distinct subject || payload) as d from jetcel_outbox where subject like 'events.instance.%'",
  );
  assert.equal(events[0]?.n, events[0]?.d, 'one event row per committed transition');
  const unpublished = await stack.sql<{ n: string }>(
    'select count(*) as n from jetcel_outbox where published_at is null and not_before < now()',
  );
  assert.equal(Number(unpublished[0]?.n), 0, 'everything committed was published after the restart');
  console.log(`figure=nats_outage_recovery down_ms=${upAfter} instances=${all.length}`);
});
