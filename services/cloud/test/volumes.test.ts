import assert from 'node:assert/strict';
import { test } from 'node:test';
import { errorCode, freshKey, record, startTestCloud, waitUntil } from './helpers.ts';

test('a volume can be created attached to an existing server', async (t) => {
  const cloud = await startTestCloud();
  t.after(() => cloud.close());
  const server = record(
    (await cloud.api('POST', '/servers', { body: { name: 'vm', settingsId: 'A' }, headers: freshKey() })).body,
  );
  const serverId = String(server['id']);

  const attached = await cloud.api('POST', '/volumes', {
    body: { name: 'data', settingsId: 'A', size: 10, serverId },
    headers: freshKey(),
  });
  assert.equal(attached.status, 201);
  assert.equal(record(attached.body)['serverId'], serverId);
  const path = `/volumes/${String(record(attached.body)['id'])}`;
  assert.equal(record((await cloud.api('GET', path)).body)['serverId'], serverId);

  const detached = await cloud.api('POST', '/volumes', {
    body: { name: 'd', settingsId: 'A', size: 1 },
    headers: freshKey(),
  });
  assert.equal(record(detached.body)['serverId'], null);

  const unknown = await cloud.api('POST', '/volumes', {
    body: { name: 'x', settingsId: 'A', size: 1, serverId: 'nope' },
    headers: freshKey(),
  });
  assert.equal(unknown.status, 404);
  assert.equal(errorCode(unknown.body), 'NOT_FOUND');
  const invalid = await cloud.api('POST', '/volumes', {
    body: { name: 'x', settingsId: 'A', size: 1, serverId: 7 },
    headers: freshKey(),
  });
  assert.equal(invalid.status, 400);
  assert.equal(cloud.state.volumes.list().length, 2);
});

test('stats count volumes per settings, and open barriers', async (t) => {
  const cloud = await startTestCloud();
  t.after(() => cloud.close());
  const create = (settingsId: string) =>
    cloud.api('POST', '/volumes', { body: { name: 'v', settingsId, size: 1 }, headers: freshKey() });
  const first = String(record((await create('A')).body)['id']);
  await create('A');
  await create('B');
  await cloud.api('POST', '/barriers', { body: { op: 'volume-extend', size: 2 } });

  const stats = record((await cloud.api('GET', '/stats')).body);
  assert.equal(stats['barriers'], 1);
  assert.deepEqual(record(stats['settings'])['A'], {
    building: 0,
    peakBuilding: 0,
    serversCreated: 0,
    servers: 0,
    volumesCreated: 2,
    volumes: 2,
    snapshotsCreated: 0,
    snapshotting: 0,
    peakSnapshotting: 0,
  });
  assert.equal(record(record(stats['settings'])['B'])['volumes'], 1);

  await cloud.api('DELETE', `/volumes/${first}`);
  await waitUntil(() => cloud.state.stats().settings['A']?.volumes === 1, 2000, 'the volume to be gone');
  await cloud.api('POST', '/stats/reset');
  assert.deepEqual(
    {
      volumesCreated: cloud.state.stats().settings['A']?.volumesCreated,
      volumes: cloud.state.stats().settings['A']?.volumes,
    },
    { volumesCreated: 0, volumes: 1 },
  );
});
