import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { CloudError, CloudState } from '../src/index.ts';
import { HangRequest } from '../src/errors.ts';

function fixedState(): CloudState {
  let next = 0;
  return new CloudState({
    buildDelayMs: 20,
    deleteDelayMs: 20,
    actionDelayMs: 20,
    now: () => new Date('2025-01-01T00:00:00.000Z'),
    newId: () => `id-${++next}`,
  });
}

test('the model works without HTTP: ids, timestamps, build and idempotency', async (t) => {
  const state = fixedState();
  t.after(() => state.dispose());
  const first = state.servers.create({ name: 'vm', settingsId: 'A' }, { idempotencyKey: 'k' });
  assert.deepEqual(first, {
    created: true,
    server: {
      id: 'id-1',
      name: 'vm',
      settingsId: 'A',
      status: 'BUILD',
      taskState: null,
      flavor: 'm1.small',
      imageId: null,
      createdAt: '2025-01-01T00:00:00.000Z',
      updatedAt: '2025-01-01T00:00:00.000Z',
    },
  });
  assert.equal(state.servers.create({ name: 'vm', settingsId: 'A' }, { idempotencyKey: 'k' }).created, false);
  await sleep(60);
  assert.equal(state.servers.get('id-1').status, 'ACTIVE');
  assert.equal(state.pendingTimers, 0);
});

test('the model reports failures as CloudError and timeouts as HangRequest', (t) => {
  const state = fixedState();
  t.after(() => state.dispose());
  assert.throws(
    () => state.servers.get('nope'),
    (error: unknown) => error instanceof CloudError && error.status === 404,
  );
  state.addFault({ op: 'get', mode: 'timeout', count: 1 });
  assert.throws(() => state.servers.list(), HangRequest);
  assert.deepEqual(state.servers.list(), []);
  state.servers.create({ name: 'vm', settingsId: 'A' }, { fencing: { slot: 's', token: 3 } });
  assert.throws(
    () => state.servers.create({ name: 'vm', settingsId: 'A' }, { fencing: { slot: 's', token: 2 } }),
    (error: unknown) => error instanceof CloudError && error.code === 'STALE_FENCING_TOKEN',
  );
});

test('dispose cancels pending timers, so nothing changes afterwards', async () => {
  const state = fixedState();
  state.servers.create({ name: 'vm', settingsId: 'A' });
  assert.equal(state.pendingTimers, 1);
  state.dispose();
  assert.equal(state.pendingTimers, 0);
  await sleep(50);
  assert.equal(state.servers.get('id-1').status, 'BUILD');
});

test("a 'timeout' build fault leaves the server building until it is deleted", async (t) => {
  const state = fixedState();
  t.after(() => state.dispose());
  state.addFault({ op: 'build', mode: 'timeout', settingsId: 'A' });
  state.servers.create({ name: 'vm', settingsId: 'A' });
  await sleep(60);
  assert.equal(state.servers.get('id-1').status, 'BUILD');
  assert.equal(state.stats().settings['A']?.building, 1);
  state.servers.delete('id-1');
  assert.equal(state.stats().settings['A']?.building, 0);
});
