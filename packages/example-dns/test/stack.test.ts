import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually } from '@jetcel/testing';
import { Stack } from '@jetcel/testing-kit';

// The DNS domain by configuration alone (JETCEL_DOMAINS): the stock executor, workers and beat as
// processes on a private nats-server and database; the beat's pull refreshes the zones.

let stack: Stack;
before(async () => {
  stack = await Stack.start({ domains: ['@jetcel/example-dns'], env: { DNS_PULL_EVERY_MS: '500' } });
  await Promise.all([
    stack.spawn('executor'),
    stack.spawn('worker', { queue: 'regular' }),
    stack.spawn('worker', { queue: 'background' }),
  ]);
});
after(async () => {
  await stack?.stop();
});

test('a zone is created through cmd.dns_zone.create, read with query.dns_zone.get, and deleted', async () => {
  const created = await stack.ok<{ id: string; executionId: string }>('cmd.dns_zone.create', { name: 'stack.org' });
  const execution = await stack.waitForExecution(created.executionId);
  assert.equal(execution.status, 'succeeded', execution.errorMessage);
  const zone = await stack.ok<{ state: string; runtimeState: string; providerId: string }>('query.dns_zone.get', {
    id: created.id,
  });
  assert.equal(zone.state, 'OK');
  assert.equal(zone.runtimeState, 'ACTIVE');

  const deleting = await stack.ok<{ executionId: string }>('cmd.dns_zone.delete', { id: created.id });
  assert.equal((await stack.waitForExecution(deleting.executionId)).status, 'succeeded');
  const gone = await stack.request('query.dns_zone.get', { id: created.id });
  assert.equal(gone.ok ? 'ok' : gone.error.code, 'NOT_FOUND');
});

test('the beat pull refreshes a zone from the provider: a stale runtime state is put right, the zone stays OK', async () => {
  await stack.spawn('beat');
  const created = await stack.ok<{ id: string; executionId: string }>('cmd.dns_zone.create', { name: 'pulled.org' });
  await stack.waitForRow('dns_zone', created.id, 'OK');
  await stack.sql(`update dns_zone set runtime_state = 'PENDING' where id = $1`, [created.id]);
  const row = await eventually(
    async () => {
      const [zone] = await stack.sql<{ state: string; runtime_state: string }>(
        'select state, runtime_state from dns_zone where id = $1',
        [created.id],
      );
      return zone?.runtime_state === 'ACTIVE' ? zone : undefined;
    },
    { timeoutMs: 20_000, message: 'the beat pull never refreshed the zone' },
  );
  assert.equal(row.state, 'OK');
});
