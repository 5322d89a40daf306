import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { freshKey, record, startTestCloud, waitUntil } from './helpers.ts';

test('a server goes from BUILD to ACTIVE after the build delay', async (t) => {
  const cloud = await startTestCloud({ buildDelayMs: 150 });
  t.after(() => cloud.close());
  const created = record(
    (await cloud.api('POST', '/servers', { body: { name: 's', settingsId: 'A' }, headers: freshKey() })).body,
  );
  const path = `/servers/${String(created['id'])}`;
  assert.equal(created['flavor'], 'm1.small');

  await sleep(50);
  assert.equal(record((await cloud.api('GET', path)).body)['status'], 'BUILD');

  await sleep(200);
  const active = record((await cloud.api('GET', path)).body);
  assert.equal(active['status'], 'ACTIVE');
  assert.equal(active['fault'], undefined);
  assert.equal(cloud.state.stats().settings['A']?.building, 0);
});

test('build concurrency and its peak are counted per settings', async (t) => {
  const cloud = await startTestCloud({ buildDelayMs: 200 });
  t.after(() => cloud.close());
  const create = (settingsId: string, index: number) =>
    cloud.api('POST', '/servers', { body: { name: `${settingsId}-${index}`, settingsId }, headers: freshKey() });

  const responses = await Promise.all([
    ...[1, 2, 3, 4, 5, 6].map((index) => create('A', index)),
    ...[1, 2].map((index) => create('B', index)),
  ]);
  assert.ok(responses.every((response) => response.status === 201));

  const during = record((await cloud.api('GET', '/stats')).body);
  const settings = record(during['settings']);
  // `building` may already be dropping on a slow machine; the peak may not.
  assert.deepEqual(
    { ...record(settings['A']), building: 0 },
    {
      building: 0,
      peakBuilding: 6,
      serversCreated: 6,
      servers: 6,
      volumesCreated: 0,
      volumes: 0,
      snapshotsCreated: 0,
      snapshotting: 0,
      peakSnapshotting: 0,
    },
  );
  assert.deepEqual(
    { ...record(settings['B']), building: 0 },
    {
      building: 0,
      peakBuilding: 2,
      serversCreated: 2,
      servers: 2,
      volumesCreated: 0,
      volumes: 0,
      snapshotsCreated: 0,
      snapshotting: 0,
      peakSnapshotting: 0,
    },
  );

  await waitUntil(() => cloud.state.stats().settings['A']?.building === 0, 2000, 'builds to finish');
  await waitUntil(() => cloud.state.stats().settings['B']?.building === 0, 2000, 'builds to finish');
  const after = cloud.state.stats();
  assert.equal(after.settings['A']?.peakBuilding, 6);
  assert.equal(after.settings['B']?.peakBuilding, 2);
  assert.equal(after.requests, 8); // the creates; /stats is not counted

  const reset = await cloud.api('POST', '/stats/reset');
  assert.equal(reset.status, 200);
  const cleared = cloud.state.stats();
  assert.deepEqual(cleared.settings['A'], {
    building: 0,
    peakBuilding: 0,
    serversCreated: 0,
    servers: 6,
    volumesCreated: 0,
    volumes: 0,
    snapshotsCreated: 0,
    snapshotting: 0,
    peakSnapshotting: 0,
  });
  assert.equal(cleared.requests, 0);
});

test('a server created while others build raises the peak only as far as the overlap goes', async (t) => {
  const cloud = await startTestCloud({ buildDelayMs: 80 });
  t.after(() => cloud.close());
  for (const index of [1, 2, 3]) {
    await cloud.api('POST', '/servers', { body: { name: `s${index}`, settingsId: 'A' }, headers: freshKey() });
    await sleep(150);
  }
  assert.deepEqual(cloud.state.stats().settings['A'], {
    building: 0,
    peakBuilding: 1,
    serversCreated: 3,
    servers: 3,
    volumesCreated: 0,
    volumes: 0,
    snapshotsCreated: 0,
    snapshotting: 0,
    peakSnapshotting: 0,
  });
});
