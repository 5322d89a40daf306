import assert from 'node:assert/strict';
import { test } from 'node:test';
import { errorCode, freshKey, startTestCloud } from './helpers.ts';

test('a fencing token lower than the highest seen for its slot is refused', async (t) => {
  const cloud = await startTestCloud();
  t.after(() => cloud.close());
  const create = (token: string, slot = 'lease-A') =>
    cloud.api('POST', '/servers', {
      body: { name: 'vm', settingsId: 'A' },
      headers: { ...freshKey(), 'fencing-token': token, 'fencing-slot': slot },
    });

  assert.equal((await create('5')).status, 201);
  const stale = await create('4');
  assert.equal(stale.status, 409);
  assert.equal(errorCode(stale.body), 'STALE_FENCING_TOKEN');
  assert.equal((await create('5')).status, 201);
  assert.equal((await create('7')).status, 201);
  assert.equal((await create('6')).status, 409);
  assert.equal((await create('1', 'lease-B')).status, 201);
  assert.equal(cloud.state.fencingToken('lease-A'), 7);
  assert.equal(cloud.state.servers.list().length, 4);
  assert.equal(cloud.state.stats().fencingRefusals, 2, 'each refusal is counted');
  cloud.state.resetStats();
  assert.equal(cloud.state.stats().fencingRefusals, 0);
});

test('stale tokens are refused on deletes too, and malformed tokens are a 400', async (t) => {
  const cloud = await startTestCloud();
  t.after(() => cloud.close());
  const created = await cloud.api('POST', '/servers', {
    body: { name: 'vm', settingsId: 'A' },
    headers: { ...freshKey(), 'fencing-token': '10', 'fencing-slot': 's' },
  });
  const id = String((created.body as { id: string }).id);
  const stale = await cloud.api('DELETE', `/servers/${id}`, { headers: { 'fencing-token': '9', 'fencing-slot': 's' } });
  assert.equal(stale.status, 409);
  assert.equal(errorCode(stale.body), 'STALE_FENCING_TOKEN');
  const bad = await cloud.api('DELETE', `/servers/${id}`, { headers: { 'fencing-token': 'ten' } });
  assert.equal(bad.status, 400);
  assert.equal(errorCode(bad.body), 'VALIDATION_FAILED');
});
