import assert from 'node:assert/strict';
import { test } from 'node:test';
import { errorCode, freshKey, record, startTestCloud, waitUntil } from './helpers.ts';

test('a deleted server is DELETING, then gone (404)', async (t) => {
  const cloud = await startTestCloud({ buildDelayMs: 20, deleteDelayMs: 100 });
  t.after(() => cloud.close());
  const id = String(
    record((await cloud.api('POST', '/servers', { body: { name: 's', settingsId: 'A' }, headers: freshKey() })).body)[
      'id'
    ],
  );
  await waitUntil(async () => record((await cloud.api('GET', `/servers/${id}`)).body)['status'] === 'ACTIVE');

  const deleted = await cloud.api('DELETE', `/servers/${id}`);
  assert.equal(deleted.status, 202);
  assert.equal(record(deleted.body)['status'], 'DELETING');
  assert.equal(record((await cloud.api('GET', `/servers/${id}`)).body)['status'], 'DELETING');

  await waitUntil(
    async () => (await cloud.api('GET', `/servers/${id}`)).status === 404,
    2000,
    'the server to disappear',
  );
  const missing = await cloud.api('GET', `/servers/${id}`);
  assert.equal(errorCode(missing.body), 'NOT_FOUND');
  assert.deepEqual(await cloud.api('GET', '/servers').then((response) => response.body), []);
  assert.equal(cloud.state.stats().settings['A']?.servers, 0);
});

test('deleting a missing server is a 404', async (t) => {
  const cloud = await startTestCloud();
  t.after(() => cloud.close());
  const response = await cloud.api('DELETE', '/servers/nope');
  assert.equal(response.status, 404);
  assert.equal(errorCode(response.body), 'NOT_FOUND');
});

test('deleting a building server ends its build in the stats', async (t) => {
  const cloud = await startTestCloud({ buildDelayMs: 5000, deleteDelayMs: 30 });
  t.after(() => cloud.close());
  const id = String(
    record((await cloud.api('POST', '/servers', { body: { name: 's', settingsId: 'A' }, headers: freshKey() })).body)[
      'id'
    ],
  );
  assert.equal(cloud.state.stats().settings['A']?.building, 1);
  assert.equal((await cloud.api('DELETE', `/servers/${id}`)).status, 202);
  assert.deepEqual(cloud.state.stats().settings['A'], {
    building: 0,
    peakBuilding: 1,
    serversCreated: 1,
    servers: 1,
    volumesCreated: 0,
    volumes: 0,
    snapshotsCreated: 0,
    snapshotting: 0,
    peakSnapshotting: 0,
  });
  await waitUntil(() => cloud.state.stats().settings['A']?.servers === 0, 2000, 'the server to disappear');
});

test('a delete repeated with the same Idempotency-Key is answered again after the server is gone', async (t) => {
  const cloud = await startTestCloud({ buildDelayMs: 10, deleteDelayMs: 30 });
  t.after(() => cloud.close());
  const id = String(
    record((await cloud.api('POST', '/servers', { body: { name: 's', settingsId: 'A' }, headers: freshKey() })).body)[
      'id'
    ],
  );
  const key = freshKey();
  assert.equal((await cloud.api('DELETE', `/servers/${id}`, { headers: key })).status, 202);
  await waitUntil(async () => (await cloud.api('GET', `/servers/${id}`)).status === 404);
  const replay = await cloud.api('DELETE', `/servers/${id}`, { headers: key });
  assert.equal(replay.status, 202);
  assert.equal(record(replay.body)['id'], id);
  assert.equal(record(replay.body)['status'], 'DELETED');
  assert.equal((await cloud.api('DELETE', `/servers/${id}`)).status, 404);
});
