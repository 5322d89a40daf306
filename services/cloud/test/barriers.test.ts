import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { errorCode, freshKey, record, startTestCloud, waitUntil, type TestCloud } from './helpers.ts';

async function createServer(cloud: TestCloud, settingsId = 'A'): Promise<Record<string, unknown>> {
  const response = await cloud.api('POST', '/servers', { body: { name: 'vm', settingsId }, headers: freshKey() });
  assert.equal(response.status, 201);
  return record(response.body);
}

async function listServers(cloud: TestCloud, settingsId: string): Promise<Record<string, unknown>[]> {
  const body = (await cloud.api('GET', `/servers?settingsId=${settingsId}`)).body;
  assert.ok(Array.isArray(body));
  return body.map(record);
}

async function waiting(cloud: TestCloud): Promise<number[]> {
  const body = (await cloud.api('GET', '/barriers')).body;
  assert.ok(Array.isArray(body));
  return body.map((barrier) => Number(record(barrier)['waiting']));
}

test('a barrier of size 3 holds builds until the third arrives, then all complete in the same tick', async (t) => {
  const cloud = await startTestCloud({ buildDelayMs: 50 });
  t.after(() => cloud.close());
  const added = await cloud.api('POST', '/barriers', { body: { op: 'build', settingsId: 'A', size: 3 } });
  assert.equal(added.status, 201);
  assert.deepEqual(added.body, { id: 'barrier-1', op: 'build', settingsId: 'A', size: 3, waiting: 0 });

  const first = await createServer(cloud);
  const second = await createServer(cloud);
  const other = await createServer(cloud, 'B'); // another settings: not held
  await waitUntil(async () => (await waiting(cloud))[0] === 2, 2000, 'two builds to wait');
  await sleep(100); // well past the build delay
  assert.deepEqual(
    (await listServers(cloud, 'A')).map((server) => server['status']),
    ['BUILD', 'BUILD'],
  );
  assert.equal(record((await cloud.api('GET', `/servers/${String(other['id'])}`)).body)['status'], 'ACTIVE');
  assert.equal(cloud.state.stats().settings['A']?.building, 2);
  assert.equal(cloud.state.stats().barriers, 1);

  const third = await createServer(cloud);
  // Poll: the first answer in which any server has left BUILD must show all three ACTIVE.
  let servers = await listServers(cloud, 'A');
  const deadline = Date.now() + 2000;
  while (servers.every((server) => server['status'] === 'BUILD')) {
    assert.ok(Date.now() < deadline, 'the builds never completed');
    await sleep(2);
    servers = await listServers(cloud, 'A');
  }
  assert.deepEqual(
    servers.map((server) => server['status']),
    ['ACTIVE', 'ACTIVE', 'ACTIVE'],
  );
  const updatedAt = new Set(servers.map((server) => server['updatedAt']));
  assert.equal(updatedAt.size, 1, `transition times differ: ${[...updatedAt].join(', ')}`);
  const releasedAt = Date.parse(String([...updatedAt][0]));
  assert.ok(releasedAt >= Date.parse(String(third['createdAt'])) + 45, 'released before the third build ended');
  assert.ok(releasedAt >= Date.parse(String(first['createdAt'])) + 150, 'the first build was not held');
  assert.deepEqual(
    servers.map((server) => server['id']),
    [first['id'], second['id'], third['id']],
  );

  assert.deepEqual((await cloud.api('GET', '/barriers')).body, []); // consumed
  assert.equal(cloud.state.stats().barriers, 0);
  assert.equal(cloud.state.stats().settings['A']?.building, 0);
  await createServer(cloud);
  await waitUntil(() => cloud.state.servers.list('A').every((server) => server.status === 'ACTIVE'), 2000, 'build');
});

test('faults still apply to builds released by a barrier', async (t) => {
  const cloud = await startTestCloud({ buildDelayMs: 30 });
  t.after(() => cloud.close());
  await cloud.api('POST', '/barriers', { body: { op: 'build', size: 2 } });
  await cloud.api('POST', '/faults', { body: { op: 'build', mode: 'error', message: 'no valid host', count: 1 } });
  await createServer(cloud);
  await createServer(cloud);
  await waitUntil(() => cloud.state.stats().settings['A']?.building === 0, 2000, 'builds to end');
  const servers = await listServers(cloud, 'A');
  assert.deepEqual(
    servers.map((server) => [server['status'], server['fault']]),
    [
      ['ERROR', 'no valid host'],
      ['ACTIVE', undefined],
    ],
  );
  assert.equal(servers[0]?.['updatedAt'], servers[1]?.['updatedAt']);
});

test('DELETE /barriers releases everything waiting and removes the barriers', async (t) => {
  const cloud = await startTestCloud({ buildDelayMs: 30 });
  t.after(() => cloud.close());
  await cloud.api('POST', '/barriers', { body: { op: 'build', size: 5 } });
  await cloud.api('POST', '/barriers', { body: { op: 'volume-create', size: 2 } });
  await createServer(cloud);
  await createServer(cloud);
  await waitUntil(async () => (await waiting(cloud))[0] === 2, 2000, 'two builds to wait');

  const released = await cloud.api('DELETE', '/barriers');
  assert.equal(released.status, 200);
  assert.deepEqual(released.body, { cleared: 2, released: 2 });
  const servers = await listServers(cloud, 'A');
  assert.deepEqual(
    servers.map((server) => server['status']),
    ['ACTIVE', 'ACTIVE'],
  );
  assert.equal(servers[0]?.['updatedAt'], servers[1]?.['updatedAt']);
  assert.deepEqual((await cloud.api('GET', '/barriers')).body, []);
  assert.deepEqual((await cloud.api('DELETE', '/barriers')).body, { cleared: 0, released: 0 });
});

test('a server deleted while held leaves its barrier', async (t) => {
  const cloud = await startTestCloud({ buildDelayMs: 30, deleteDelayMs: 20 });
  t.after(() => cloud.close());
  await cloud.api('POST', '/barriers', { body: { op: 'build', size: 2 } });
  const doomed = await createServer(cloud);
  await waitUntil(async () => (await waiting(cloud))[0] === 1, 2000, 'the build to wait');
  assert.equal((await cloud.api('DELETE', `/servers/${String(doomed['id'])}`)).status, 202);
  assert.deepEqual(await waiting(cloud), [0]);
  assert.equal(cloud.state.stats().settings['A']?.building, 0);

  await createServer(cloud);
  await createServer(cloud);
  await waitUntil(() => cloud.state.stats().settings['A']?.building === 0, 2000, 'builds to end');
  await waitUntil(() => cloud.state.servers.list('A').length === 2, 2000, 'the deleted server to be gone');
  assert.ok(cloud.state.servers.list('A').every((server) => server.status === 'ACTIVE'));
});

test('volume-create and volume-extend barriers hold volumes', async (t) => {
  const cloud = await startTestCloud({ buildDelayMs: 30, actionDelayMs: 30 });
  t.after(() => cloud.close());
  await cloud.api('POST', '/barriers', { body: { op: 'volume-create', settingsId: 'A', size: 2 } });
  const create = async (): Promise<string> => {
    const response = await cloud.api('POST', '/volumes', {
      body: { name: 'v', settingsId: 'A', size: 1 },
      headers: freshKey(),
    });
    return String(record(response.body)['id']);
  };
  const first = await create();
  await sleep(80);
  assert.equal(cloud.state.volumes.get(first).status, 'creating');
  const second = await create();
  await waitUntil(() => cloud.state.volumes.get(second).status === 'available', 2000, 'the volumes to be created');
  assert.equal(cloud.state.volumes.get(first).status, 'available');
  assert.equal(cloud.state.volumes.get(first).updatedAt, cloud.state.volumes.get(second).updatedAt);

  await cloud.api('POST', '/barriers', { body: { op: 'volume-extend', size: 2 } });
  await cloud.api('POST', `/volumes/${first}/extend`, { body: { size: 5 } });
  await sleep(80);
  assert.deepEqual(
    { status: cloud.state.volumes.get(first).status, size: cloud.state.volumes.get(first).size },
    { status: 'extending', size: 1 },
  );
  await cloud.api('POST', `/volumes/${second}/extend`, { body: { size: 7 } });
  await waitUntil(() => cloud.state.volumes.get(second).status === 'available', 2000, 'the extends to finish');
  assert.deepEqual(
    cloud.state.volumes.list('A').map((volume) => [volume.status, volume.size]),
    [
      ['available', 5],
      ['available', 7],
    ],
  );
});

test('barriers are validated, and POST /reset removes them', async (t) => {
  const cloud = await startTestCloud();
  t.after(() => cloud.close());
  const badOp = await cloud.api('POST', '/barriers', { body: { op: 'delete', size: 2 } });
  assert.equal(badOp.status, 400);
  assert.equal(errorCode(badOp.body), 'VALIDATION_FAILED');
  assert.equal((await cloud.api('POST', '/barriers', { body: { op: 'build', size: 0 } })).status, 400);
  assert.equal((await cloud.api('POST', '/barriers', { body: { op: 'build' } })).status, 400);
  await cloud.api('POST', '/barriers', { body: { op: 'build', size: 2 } });
  await cloud.api('POST', '/reset');
  assert.deepEqual((await cloud.api('GET', '/barriers')).body, []);
  assert.equal(record((await cloud.api('GET', '/stats')).body)['barriers'], 0);
});
