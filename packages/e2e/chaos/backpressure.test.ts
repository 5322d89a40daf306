import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { streamInfo } from '@jetcel/bus';
import { eventually } from '@jetcel/testing';
import { Stack } from '../test/stack.ts';

// Back-pressure and loss: a full task stream refuses (discard new), the outbox keeps the rows,
// commands answer UNAVAILABLE past a threshold, and everything drains; a purged stream loses nothing.

let stack: Stack;
before(async () => {
  stack = await Stack.start({
    buildDelayMs: 100,
    env: {
      JETCEL_MAX_BYTES_REGULAR: '4096',
      JETCEL_BACKLOG_LIMIT: '5',
      JETCEL_STALE_QUEUED_MS: '2000',
      JETCEL_SWEEP_MS: '300',
    },
  });
  await stack.spawn('executor');
});
after(async () => {
  await stack?.stop();
});

test(
  'a full task stream refuses new messages; the outbox keeps them; commands answer UNAVAILABLE; all drains later',
  { timeout: 120_000 },
  async () => {
    const accepted: string[] = [];
    let refused = 0;
    for (let i = 0; i < 40 && refused === 0; i += 1) {
      const reply = await stack.request('cmd.instance.create', { name: `bp-${i}`, cloudSettingsId: 'default' });
      if (reply.ok) accepted.push((reply.data as { id: string }).id);
      else {
        assert.equal(reply.error.code, 'UNAVAILABLE');
        assert.equal(reply.error.retryable, true);
        refused += 1;
      }
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
    assert.equal(refused, 1, 'past the backlog limit, a command is refused with UNAVAILABLE');
    const info = await streamInfo(stack.bus, 'TASKS_REGULAR');
    assert.ok(info.bytes <= 4096, `the stream stayed within max_bytes (${info.bytes})`);
    const [backlog] = await stack.sql<{ n: string }>(
      "select count(*) as n from jetcel_outbox where published_at is null and subject = 'tasks.regular'",
    );
    assert.ok(Number(backlog?.n) > 5, `the outbox kept what the stream refused (${backlog?.n})`);
    const [failedPublishes] = await stack.sql<{ n: string }>(
      "select count(*) as n from jetcel_outbox where last_error like '%is full%'",
    );
    assert.ok(Number(failedPublishes?.n) > 0, 'the relay saw the stream refuse (discard new)');
    await stack.spawn('worker', { queue: 'regular' });
    for (const id of accepted) await stack.waitForState(id, 'OK', 60_000);
    await eventually(
      async () =>
        Number(
          (
            await stack.sql<{ n: string }>(
              'select count(*) as n from jetcel_outbox where published_at is null and not_before < now()',
            )
          )[0]?.n,
        ) === 0,
    );
    const reply = await stack.request('cmd.instance.create', { name: 'after-drain', cloudSettingsId: 'default' });
    assert.ok(reply.ok, 'commands are accepted again');
  },
);

test(
  'purging a task stream loses nothing: the reconciler re-publishes steps queued too long, with new message ids',
  { timeout: 60_000 },
  async () => {
    const worker = stack.services.find((service) => service.output().some((line) => line.includes('"worker ready"')));
    await worker?.stop();
    const created = await Promise.all(
      Array.from({ length: 3 }, (_, i) =>
        stack.ok<{ id: string; executionId: string }>('cmd.instance.create', {
          name: `purged-${i}`,
          cloudSettingsId: 'default',
        }),
      ),
    );
    await eventually(async () => (await streamInfo(stack.bus, 'TASKS_REGULAR')).messages >= 3);
    const jsm = await stack.bus.jsm();
    await jsm.streams.purge('TASKS_REGULAR');
    assert.equal((await streamInfo(stack.bus, 'TASKS_REGULAR')).messages, 0, 'the messages are gone');
    const replacement = await stack.spawn('worker', { queue: 'regular' });
    for (const { id } of created) await stack.waitForState(id, 'OK', 30_000);
    assert.ok(replacement.output().some((line) => line.includes('re-publishing steps queued too long')));
    // Each first step's message: the purged one and the re-publish (later steps may run where the
    // previous one ended, with no message of their own).
    const rows = await stack.sql<{ n: string }>(
      `select count(*) as n from jetcel_outbox o join jetcel_step s on o.payload like '%' || s.id || '%'
       where o.subject = 'tasks.regular' and s.role = 'main' and s.position = 0 and s.execution_id = any($1::uuid[])`,
      [created.map((row) => row.executionId)],
    );
    assert.ok(Number(rows[0]?.n) >= 2 * 3, 'the lost first steps were published again under new ids');
  },
);
