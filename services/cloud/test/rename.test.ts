import assert from 'node:assert/strict';
import { test } from 'node:test';
import { errorCode, freshKey, record, startTestCloud, type TestCloud } from './helpers.ts';

async function createServer(cloud: TestCloud, name = 'vm'): Promise<string> {
  const response = await cloud.api('POST', '/servers', { body: { name, settingsId: 'A' }, headers: freshKey() });
  assert.equal(response.status, 201);
  return String(record(response.body)['id']);
}

function rename(cloud: TestCloud, id: string, name: unknown, headers: Record<string, string> = {}) {
  return cloud.api('PATCH', `/servers/${id}`, { body: { name }, headers });
}

test('PATCH /servers/:id renames the server and answers it', async (t) => {
  const cloud = await startTestCloud();
  t.after(() => cloud.close());
  const id = await createServer(cloud, 'old');
  const response = await rename(cloud, id, 'new');
  assert.equal(response.status, 200);
  const server = record(response.body);
  assert.equal(server['id'], id);
  assert.equal(server['name'], 'new');
  assert.equal(server['status'], 'BUILD'); // renaming does not touch the lifecycle
  assert.equal(record((await cloud.api('GET', `/servers/${id}`)).body)['name'], 'new');
  assert.equal(record((await cloud.api('GET', '/stats')).body)['requests'], 3);

  const missing = await rename(cloud, 'nope', 'x');
  assert.equal(missing.status, 404);
  assert.equal(errorCode(missing.body), 'NOT_FOUND');
  const invalid = await rename(cloud, id, '');
  assert.equal(invalid.status, 400);
  assert.equal(errorCode(invalid.body), 'VALIDATION_FAILED');
  assert.equal((await cloud.api('PUT', `/servers/${id}`)).headers.get('allow'), 'GET, DELETE, PATCH');
});

test("an 'update' fault refuses the rename: error → 422, http500 → 500, timeout → no answer", async (t) => {
  const cloud = await startTestCloud();
  t.after(() => cloud.close());
  const id = await createServer(cloud, 'old');
  await cloud.api('POST', '/faults', { body: { op: 'update', mode: 'error', message: 'locked', count: 1 } });
  await cloud.api('POST', '/faults', { body: { op: 'update', mode: 'http500', count: 1 } });
  await cloud.api('POST', '/faults', { body: { op: 'update', mode: 'timeout', count: 1 } });

  const refused = await rename(cloud, id, 'new');
  assert.equal(refused.status, 422);
  assert.deepEqual(refused.body, { error: { code: 'BACKEND_ERROR', message: 'locked' } });
  const failed = await rename(cloud, id, 'new');
  assert.equal(failed.status, 500);
  assert.equal(errorCode(failed.body), 'INTERNAL');
  await assert.rejects(
    cloud.api('PATCH', `/servers/${id}`, { body: { name: 'new' }, signal: AbortSignal.timeout(150) }),
    (error: Error) => error.name === 'TimeoutError',
  );
  assert.equal(cloud.state.servers.get(id).name, 'old');

  assert.equal((await rename(cloud, id, 'new')).status, 200); // the rules are used up
  assert.equal(cloud.state.servers.get(id).name, 'new');
});

test('rename honours Fencing-Token and an optional Idempotency-Key', async (t) => {
  const cloud = await startTestCloud();
  t.after(() => cloud.close());
  const id = await createServer(cloud);
  assert.equal((await rename(cloud, id, 'a', { 'fencing-token': '5' })).status, 200);
  const stale = await rename(cloud, id, 'b', { 'fencing-token': '4' });
  assert.equal(stale.status, 409);
  assert.equal(errorCode(stale.body), 'STALE_FENCING_TOKEN');
  assert.equal(cloud.state.servers.get(id).name, 'a');

  const key = freshKey();
  assert.equal((await rename(cloud, id, 'c', key)).status, 200);
  await rename(cloud, id, 'd');
  const replay = await rename(cloud, id, 'c', key);
  assert.equal(replay.status, 200);
  assert.equal(record(replay.body)['name'], 'd'); // the server as it is now; nothing renamed again
  const conflict = await rename(cloud, id, 'e', key);
  assert.equal(conflict.status, 409);
  assert.equal(errorCode(conflict.body), 'IDEMPOTENCY_CONFLICT');
});
