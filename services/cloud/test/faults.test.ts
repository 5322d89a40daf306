import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { errorCode, freshKey, record, startTestCloud, waitUntil, type TestCloud } from './helpers.ts';

function createServer(cloud: TestCloud, settingsId = 'A', headers = freshKey()) {
  return cloud.api('POST', '/servers', { body: { name: 'vm', settingsId }, headers });
}

test("mode 'error' on create answers 422 BACKEND_ERROR with the message, and creates nothing", async (t) => {
  const cloud = await startTestCloud();
  t.after(() => cloud.close());
  const added = await cloud.api('POST', '/faults', {
    body: { op: 'create', mode: 'error', message: 'quota exceeded' },
  });
  assert.equal(added.status, 201);
  assert.equal(record(added.body)['remaining'], null);

  const response = await createServer(cloud);
  assert.equal(response.status, 422);
  assert.deepEqual(response.body, { error: { code: 'BACKEND_ERROR', message: 'quota exceeded' } });
  assert.equal((await createServer(cloud)).status, 422); // unlimited by default
  assert.deepEqual(cloud.state.servers.list(), []);

  assert.deepEqual((await cloud.api('DELETE', '/faults')).body, { cleared: 1 });
  assert.equal((await createServer(cloud)).status, 201);
});

test("mode 'http500' answers 500, and statusCode overrides the status", async (t) => {
  const cloud = await startTestCloud();
  t.after(() => cloud.close());
  await cloud.api('POST', '/faults', { body: { op: 'create', mode: 'http500', count: 1 } });
  await cloud.api('POST', '/faults', { body: { op: 'create', mode: 'http500', count: 1, statusCode: 503 } });
  const first = await createServer(cloud);
  assert.equal(first.status, 500);
  assert.equal(errorCode(first.body), 'INTERNAL');
  assert.equal((await createServer(cloud)).status, 503);
  assert.equal((await createServer(cloud)).status, 201);
});

test('count limits how many times a rule fires', async (t) => {
  const cloud = await startTestCloud();
  t.after(() => cloud.close());
  await cloud.api('POST', '/faults', { body: { op: 'create', mode: 'error', count: 2 } });
  const statuses: number[] = [];
  for (let attempt = 0; attempt < 4; attempt += 1) statuses.push((await createServer(cloud)).status);
  assert.deepEqual(statuses, [422, 422, 201, 201]);
  assert.deepEqual((await cloud.api('GET', '/faults')).body, []);
});

test('a rule with settingsId only hits that settings', async (t) => {
  const cloud = await startTestCloud();
  t.after(() => cloud.close());
  await cloud.api('POST', '/faults', { body: { op: 'create', mode: 'error', settingsId: 'B' } });
  assert.equal((await createServer(cloud, 'A')).status, 201);
  assert.equal((await createServer(cloud, 'B')).status, 422);
});

test("op 'build' makes the server end in ERROR with the fault message", async (t) => {
  const cloud = await startTestCloud({ buildDelayMs: 50 });
  t.after(() => cloud.close());
  await cloud.api('POST', '/faults', { body: { op: 'build', mode: 'error', message: 'no valid host', count: 1 } });
  const failed = String(record((await createServer(cloud)).body)['id']);
  const healthy = String(record((await createServer(cloud)).body)['id']);
  await waitUntil(() => cloud.state.stats().settings['A']?.building === 0, 2000, 'builds to end');

  const server = record((await cloud.api('GET', `/servers/${failed}`)).body);
  assert.equal(server['status'], 'ERROR');
  assert.equal(server['fault'], 'no valid host');
  assert.equal(record((await cloud.api('GET', `/servers/${healthy}`)).body)['status'], 'ACTIVE');
});

test("op 'get' and op 'delete' faults fail those requests", async (t) => {
  const cloud = await startTestCloud();
  t.after(() => cloud.close());
  const id = String(record((await createServer(cloud)).body)['id']);
  await cloud.api('POST', '/faults', { body: { op: 'get', mode: 'http500', count: 1 } });
  await cloud.api('POST', '/faults', { body: { op: 'delete', mode: 'error', count: 1 } });
  assert.equal((await cloud.api('GET', `/servers/${id}`)).status, 500);
  assert.equal((await cloud.api('GET', `/servers/${id}`)).status, 200);
  assert.equal((await cloud.api('DELETE', `/servers/${id}`)).status, 422);
  assert.equal((await cloud.api('DELETE', `/servers/${id}`)).status, 202);
});

test("mode 'timeout' never answers until the client gives up", async (t) => {
  const cloud = await startTestCloud();
  t.after(() => cloud.close());
  await cloud.api('POST', '/faults', { body: { op: 'create', mode: 'timeout', count: 1 } });
  const started = Date.now();
  await assert.rejects(
    cloud.api('POST', '/servers', {
      body: { name: 'vm', settingsId: 'A' },
      headers: freshKey(),
      signal: AbortSignal.timeout(200),
    }),
    (error: Error) => error.name === 'TimeoutError',
  );
  assert.ok(Date.now() - started >= 190);
  assert.deepEqual(cloud.state.servers.list(), []);
  assert.equal((await createServer(cloud)).status, 201);
});

test('hung requests are released when the cloud closes', async () => {
  const cloud = await startTestCloud();
  await cloud.api('POST', '/faults', { body: { op: 'get', mode: 'timeout' } });
  const hung = cloud.api('GET', '/servers/anything');
  const outcome = hung.then(
    () => 'answered',
    () => 'released',
  );
  await sleep(100);
  const closedAt = Date.now();
  await cloud.close();
  assert.equal(await outcome, 'released');
  assert.ok(Date.now() - closedAt < 1000);
});

test("an 'applied' fault carries the operation out but loses the reply; a retry with the key finds the server", async (t) => {
  const cloud = await startTestCloud();
  t.after(() => cloud.close());
  await cloud.api('POST', '/faults', { body: { op: 'create', mode: 'http500', applied: true, count: 1 } });
  const key = freshKey();
  assert.equal((await createServer(cloud, 'A', key)).status, 500);
  assert.equal(cloud.state.servers.list().length, 1);
  const retry = await createServer(cloud, 'A', key);
  assert.equal(retry.status, 200);
  assert.equal(record(retry.body)['id'], cloud.state.servers.list()[0]?.id);
});

test('fault rules are validated', async (t) => {
  const cloud = await startTestCloud();
  t.after(() => cloud.close());
  const response = await cloud.api('POST', '/faults', { body: { op: 'explode', mode: 'error' } });
  assert.equal(response.status, 400);
  assert.equal(errorCode(response.body), 'VALIDATION_FAILED');
  assert.match(String(record(record(response.body)['error'])['message']), /"op"/);
});
