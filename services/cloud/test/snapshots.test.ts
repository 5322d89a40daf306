import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { readCloudEnv } from '../src/env.ts';
import { errorCode, freshKey, record, startTestCloud, waitUntil, type ApiResponse, type TestCloud } from './helpers.ts';

const SNAPSHOT_MS = 300;

async function activeServer(cloud: TestCloud, settingsId = 'A', flavor = 'm1.small'): Promise<string> {
  const created = await cloud.api('POST', '/servers', {
    body: { name: 'vm', settingsId, flavor },
    headers: freshKey(),
  });
  const id = String(record(created.body)['id']);
  await waitUntil(() => cloud.state.servers.get(id).status === 'ACTIVE', 2000, `server ${id} to be ACTIVE`);
  return id;
}

function snapshot(
  cloud: TestCloud,
  serverId: string,
  name = 'snap',
  headers: Record<string, string> = freshKey(),
  signal?: AbortSignal,
): Promise<ApiResponse> {
  return cloud.api('POST', `/servers/${serverId}/snapshots`, {
    body: { name },
    headers,
    ...(signal === undefined ? {} : { signal }),
  });
}

/** Runs `request` and reports when it settled, so that a test can look at the cloud meanwhile. */
function track<T>(request: Promise<T>): { settled: () => boolean; outcome: Promise<T> } {
  let done = false;
  const outcome = request.finally(() => {
    done = true;
  });
  return { settled: () => done, outcome };
}

test('a snapshot is answered only once it is complete, after at least the snapshot delay', async (t) => {
  const cloud = await startTestCloud({ buildDelayMs: 20, snapshotDelayMs: SNAPSHOT_MS });
  t.after(() => cloud.close());
  const serverId = await activeServer(cloud, 'A', 'm1.large');

  const started = performance.now();
  const request = track(snapshot(cloud, serverId, 'nightly'));
  await sleep(SNAPSHOT_MS / 3);
  assert.equal(request.settled(), false);
  const during = (await cloud.api('GET', `/servers/${serverId}/snapshots`)).body as unknown[];
  assert.equal(during.length, 1);
  assert.equal(record(during[0])['status'], 'creating');
  assert.equal(cloud.state.stats().settings['A']?.snapshotting, 1);

  const response = await request.outcome;
  const elapsed = performance.now() - started;
  assert.ok(elapsed >= SNAPSHOT_MS, `answered after ${elapsed} ms`);
  assert.equal(response.status, 201);
  const body = record(response.body);
  assert.deepEqual(Object.keys(body).sort(), ['createdAt', 'id', 'name', 'serverId', 'size', 'status']);
  assert.equal(body['serverId'], serverId);
  assert.equal(body['name'], 'nightly');
  assert.equal(body['status'], 'available');
  assert.equal(body['size'], 80);
  assert.equal(typeof body['id'], 'string');

  const listed = await cloud.api('GET', `/servers/${serverId}/snapshots`);
  assert.equal(listed.status, 200);
  assert.deepEqual(listed.body, [body]);
  const stats = cloud.state.stats().settings['A'];
  assert.equal(stats?.snapshotsCreated, 1);
  assert.equal(stats?.snapshotting, 0);
  assert.equal(stats?.peakSnapshotting, 1);
  assert.equal((await cloud.api('GET', '/servers/nope/snapshots')).status, 404);
});

test('a repeated Idempotency-Key returns the same snapshot; another body with it is a conflict', async (t) => {
  const cloud = await startTestCloud({ buildDelayMs: 20, snapshotDelayMs: SNAPSHOT_MS });
  t.after(() => cloud.close());
  const serverId = await activeServer(cloud);
  const key = freshKey();

  // a repeat while the snapshot is in progress joins it rather than starting another one
  const first = snapshot(cloud, serverId, 'snap', key);
  await sleep(50);
  const joined = await snapshot(cloud, serverId, 'snap', key);
  const original = await first;
  assert.equal(original.status, 201);
  assert.equal(joined.status, 200);
  assert.deepEqual(joined.body, original.body);

  // once complete, a repeat answers at once
  const started = performance.now();
  const replay = await snapshot(cloud, serverId, 'snap', key);
  assert.ok(performance.now() - started < SNAPSHOT_MS, 'a replay does not wait again');
  assert.equal(replay.status, 200);
  assert.deepEqual(replay.body, original.body);

  const conflict = await snapshot(cloud, serverId, 'other-name', key);
  assert.equal(conflict.status, 409);
  assert.equal(errorCode(conflict.body), 'IDEMPOTENCY_CONFLICT');
  assert.equal(cloud.state.stats().settings['A']?.snapshotsCreated, 1);
  assert.equal(((await cloud.api('GET', `/servers/${serverId}/snapshots`)).body as unknown[]).length, 1);
});

test('a client that disconnects mid-way does not cancel the snapshot; the key gets it afterwards', async (t) => {
  const cloud = await startTestCloud({ buildDelayMs: 20, snapshotDelayMs: SNAPSHOT_MS });
  t.after(() => cloud.close());
  const serverId = await activeServer(cloud);
  const key = freshKey();
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 50);
  await assert.rejects(
    snapshot(cloud, serverId, 'snap', key, controller.signal),
    (error: Error) => error.name === 'AbortError',
  );
  await waitUntil(
    () => cloud.state.snapshots.list(serverId)[0]?.status === 'available',
    2000,
    'the abandoned snapshot to complete',
  );
  const replay = await snapshot(cloud, serverId, 'snap', key);
  assert.equal(replay.status, 200);
  assert.equal(record(replay.body)['status'], 'available');
  assert.equal(cloud.state.stats().settings['A']?.snapshotsCreated, 1);
});

test('a snapshot needs an ACTIVE or SHUTOFF server, an Idempotency-Key and a fresh fencing token', async (t) => {
  const cloud = await startTestCloud({ buildDelayMs: 5000, snapshotDelayMs: 50, actionDelayMs: 20 });
  t.after(() => cloud.close());
  const building = String(
    record((await cloud.api('POST', '/servers', { body: { name: 'vm', settingsId: 'A' }, headers: freshKey() })).body)[
      'id'
    ],
  );
  const refused = await snapshot(cloud, building);
  assert.equal(refused.status, 409);
  assert.equal(errorCode(refused.body), 'INVALID_STATE');
  assert.equal(cloud.state.stats().settings['A']?.snapshotting, 0);

  const missing = await snapshot(cloud, 'nope');
  assert.equal(missing.status, 404);
  assert.equal(errorCode(missing.body), 'NOT_FOUND');

  const noKey = await cloud.api('POST', `/servers/${building}/snapshots`, { body: { name: 'snap' } });
  assert.equal(noKey.status, 400);
  assert.equal(errorCode(noKey.body), 'IDEMPOTENCY_KEY_REQUIRED');
  const noName = await cloud.api('POST', `/servers/${building}/snapshots`, { body: {}, headers: freshKey() });
  assert.equal(errorCode(noName.body), 'VALIDATION_FAILED');

  // SHUTOFF is fine too, and fencing is honoured like any other write
  await cloud.api('POST', '/config', { body: { buildDelayMs: 20 } });
  const serverId = await activeServer(cloud);
  await cloud.api('POST', `/servers/${serverId}/action`, { body: { action: 'stop' } });
  await waitUntil(() => cloud.state.servers.get(serverId).status === 'SHUTOFF', 2000, 'the server to stop');
  const fenced = { 'fencing-token': '5', 'fencing-slot': 'snap-slot' };
  assert.equal((await snapshot(cloud, serverId, 'snap', { ...freshKey(), ...fenced })).status, 201);
  const stale = await snapshot(cloud, serverId, 'snap', {
    ...freshKey(),
    'fencing-token': '4',
    'fencing-slot': 'snap-slot',
  });
  assert.equal(stale.status, 409);
  assert.equal(errorCode(stale.body), 'STALE_FENCING_TOKEN');
});

test("fault op 'snapshot': error fails at once, http500, timeout and delay apply too", async (t) => {
  const cloud = await startTestCloud({ buildDelayMs: 20, snapshotDelayMs: 100 });
  t.after(() => cloud.close());
  const serverId = await activeServer(cloud);

  const rule = await cloud.api('POST', '/faults', {
    body: { op: 'snapshot', mode: 'error', message: 'image service unavailable', count: 1 },
  });
  assert.equal(rule.status, 201);
  const started = performance.now();
  const failed = await snapshot(cloud, serverId);
  assert.ok(performance.now() - started < 100, 'an error fault does not wait for the snapshot');
  assert.equal(failed.status, 422);
  assert.equal(errorCode(failed.body), 'BACKEND_ERROR');
  assert.equal(record(record(failed.body)['error'])['message'], 'image service unavailable');
  assert.deepEqual(cloud.state.snapshots.list(serverId), []);

  await cloud.api('POST', '/faults', { body: { op: 'snapshot', mode: 'http500', count: 1 } });
  assert.equal((await snapshot(cloud, serverId)).status, 500);

  await cloud.api('POST', '/faults', { body: { op: 'snapshot', mode: 'timeout', count: 1 } });
  await assert.rejects(
    snapshot(cloud, serverId, 'snap', freshKey(), AbortSignal.timeout(300)),
    (error: Error) => error.name === 'TimeoutError',
  );
  assert.deepEqual(cloud.state.snapshots.list(serverId), [], 'a timeout fault hangs without snapshotting');

  await cloud.api('POST', '/faults', { body: { op: 'snapshot', mode: 'delay', delayMs: 300, count: 1 } });
  const slowStart = performance.now();
  const slow = await snapshot(cloud, serverId);
  assert.equal(slow.status, 201);
  assert.ok(performance.now() - slowStart >= 400, 'the snapshot took the extra delay');
  assert.equal(cloud.state.stats().settings['A']?.snapshotsCreated, 1);
  assert.deepEqual((await cloud.api('GET', '/faults')).body, []);
});

test('snapshotting and peakSnapshotting count two concurrent snapshots', async (t) => {
  const cloud = await startTestCloud({ buildDelayMs: 20, snapshotDelayMs: 50 });
  t.after(() => cloud.close());
  const first = await activeServer(cloud);
  const second = await activeServer(cloud);
  const config = await cloud.api('POST', '/config', { body: { snapshotDelayMs: SNAPSHOT_MS } });
  assert.equal(record(config.body)['snapshotDelayMs'], SNAPSHOT_MS);

  const both = Promise.all([snapshot(cloud, first), snapshot(cloud, second)]);
  await waitUntil(() => cloud.state.stats().settings['A']?.snapshotting === 2, 1000, 'two snapshots in progress');
  const during = record(record((await cloud.api('GET', '/stats')).body)['settings'])['A'];
  assert.equal(record(during)['snapshotting'], 2);
  assert.equal(record(during)['peakSnapshotting'], 2);

  const responses = await both;
  assert.deepEqual(
    responses.map((response) => response.status),
    [201, 201],
  );
  const after = cloud.state.stats().settings['A'];
  assert.equal(after?.snapshotting, 0);
  assert.equal(after?.peakSnapshotting, 2);
  assert.equal(after?.snapshotsCreated, 2);

  const reset = record((await cloud.api('POST', '/stats/reset')).body);
  const cleared = record(record(reset['settings'])['A']);
  assert.equal(cleared['peakSnapshotting'], 0);
  assert.equal(cleared['snapshotsCreated'], 0);
});

test('closing the cloud releases a snapshot request still waiting', async () => {
  const cloud = await startTestCloud({ buildDelayMs: 20, snapshotDelayMs: 600_000 });
  const serverId = await activeServer(cloud);
  const pending = snapshot(cloud, serverId).then(
    () => 'answered',
    () => 'released',
  );
  await waitUntil(() => cloud.state.stats().settings['A']?.snapshotting === 1, 1000, 'the snapshot to start');
  const closedAt = performance.now();
  await cloud.close();
  assert.equal(await pending, 'released');
  assert.ok(performance.now() - closedAt < 1000);
  assert.equal(cloud.state.pendingTimers, 0);
});

test('a reset fails snapshot requests still waiting with 404', async (t) => {
  const cloud = await startTestCloud({ buildDelayMs: 20, snapshotDelayMs: 600_000 });
  t.after(() => cloud.close());
  const serverId = await activeServer(cloud);
  const pending = snapshot(cloud, serverId);
  await waitUntil(() => cloud.state.stats().settings['A']?.snapshotting === 1, 1000, 'the snapshot to start');
  assert.equal((await cloud.api('POST', '/reset')).status, 200);
  const response = await pending;
  assert.equal(response.status, 404);
  assert.equal(errorCode(response.body), 'NOT_FOUND');
});

test('CLOUD_SNAPSHOT_DELAY_MS sets the snapshot delay (default 5000)', () => {
  assert.equal(readCloudEnv({}).snapshotDelayMs, 5000);
  assert.equal(readCloudEnv({ CLOUD_SNAPSHOT_DELAY_MS: '250' }).snapshotDelayMs, 250);
  assert.throws(() => readCloudEnv({ CLOUD_SNAPSHOT_DELAY_MS: 'soon' }), /CLOUD_SNAPSHOT_DELAY_MS/);
});

test('a snapshot is deleted once available; one in progress or of another server is refused', async (t) => {
  const cloud = await startTestCloud({ buildDelayMs: 20, snapshotDelayMs: SNAPSHOT_MS });
  t.after(() => cloud.close());
  const serverId = await activeServer(cloud);
  const otherId = await activeServer(cloud);
  const kept = record((await snapshot(cloud, serverId, 'first')).body);
  const request = track(snapshot(cloud, serverId, 'second'));
  await sleep(SNAPSHOT_MS / 3);
  const during = (await cloud.api('GET', `/servers/${serverId}/snapshots`)).body as unknown[];
  const inProgress = String(record(during[1])['id']);
  const refused = await cloud.api('DELETE', `/servers/${serverId}/snapshots/${inProgress}`);
  assert.equal(refused.status, 409);
  assert.equal(errorCode(refused.body), 'INVALID_STATE');
  await request.outcome;
  const keptId = String(kept['id']);
  assert.equal((await cloud.api('DELETE', `/servers/${otherId}/snapshots/${keptId}`)).status, 404);
  const deleted = await cloud.api('DELETE', `/servers/${serverId}/snapshots/${keptId}`);
  assert.equal(deleted.status, 200);
  assert.equal(record(deleted.body)['name'], 'first');
  const left = (await cloud.api('GET', `/servers/${serverId}/snapshots`)).body as unknown[];
  assert.deepEqual(
    left.map((entry) => record(entry)['name']),
    ['second'],
  );
});
