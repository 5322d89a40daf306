import assert from 'node:assert/strict';
import { test } from 'node:test';
import { errorCode, freshKey, record, startTestCloud, waitUntil, type TestCloud } from './helpers.ts';

async function status(cloud: TestCloud, path: string): Promise<unknown> {
  return record((await cloud.api('GET', path)).body)['status'];
}

test('stop, start and resize change the server after the action delay', async (t) => {
  const cloud = await startTestCloud({ buildDelayMs: 150, actionDelayMs: 60 });
  t.after(() => cloud.close());
  const id = String(
    record((await cloud.api('POST', '/servers', { body: { name: 'vm', settingsId: 'A' }, headers: freshKey() })).body)[
      'id'
    ],
  );
  const path = `/servers/${id}`;
  const act = (body: unknown) => cloud.api('POST', `${path}/action`, { body });

  const early = await act({ action: 'stop' });
  assert.equal(early.status, 409);
  assert.equal(errorCode(early.body), 'INVALID_STATE');
  await waitUntil(async () => (await status(cloud, path)) === 'ACTIVE');

  const stopping = await act({ action: 'stop' });
  assert.equal(stopping.status, 202);
  assert.equal(record(stopping.body)['taskState'], 'powering-off');
  assert.equal((await act({ action: 'start' })).status, 409); // busy
  await waitUntil(async () => (await status(cloud, path)) === 'SHUTOFF');

  assert.equal((await act({ action: 'start' })).status, 202);
  await waitUntil(async () => (await status(cloud, path)) === 'ACTIVE');
  assert.equal((await act({ action: 'start' })).status, 409); // already running

  const resizing = await act({ action: 'resize', flavor: 'm1.xlarge' });
  assert.equal(resizing.status, 202);
  assert.equal(record(resizing.body)['status'], 'RESIZE');
  await waitUntil(async () => (await status(cloud, path)) === 'ACTIVE');
  assert.equal(record((await cloud.api('GET', path)).body)['flavor'], 'm1.xlarge');

  assert.equal((await cloud.api('POST', '/servers/missing/action', { body: { action: 'start' } })).status, 404);
});

test("an 'action' fault fails the action and leaves the server alone", async (t) => {
  const cloud = await startTestCloud({ buildDelayMs: 10 });
  t.after(() => cloud.close());
  const id = String(
    record((await cloud.api('POST', '/servers', { body: { name: 'vm', settingsId: 'A' }, headers: freshKey() })).body)[
      'id'
    ],
  );
  await waitUntil(async () => (await status(cloud, `/servers/${id}`)) === 'ACTIVE');
  await cloud.api('POST', '/faults', { body: { op: 'action', mode: 'error', count: 1 } });
  assert.equal((await cloud.api('POST', `/servers/${id}/action`, { body: { action: 'stop' } })).status, 422);
  assert.equal(await status(cloud, `/servers/${id}`), 'ACTIVE');
});

test('volumes: creating → available, extending → available, deleting → 404', async (t) => {
  const cloud = await startTestCloud({ buildDelayMs: 40, actionDelayMs: 40, deleteDelayMs: 40 });
  t.after(() => cloud.close());
  const created = await cloud.api('POST', '/volumes', {
    body: { name: 'data', settingsId: 'A', size: 10 },
    headers: freshKey(),
  });
  assert.equal(created.status, 201);
  assert.equal(record(created.body)['status'], 'creating');
  const path = `/volumes/${String(record(created.body)['id'])}`;
  await waitUntil(async () => (await status(cloud, path)) === 'available');

  assert.equal((await cloud.api('POST', `${path}/extend`, { body: { size: 5 } })).status, 400);
  const extending = await cloud.api('POST', `${path}/extend`, { body: { size: 20 } });
  assert.equal(extending.status, 202);
  assert.equal(record(extending.body)['status'], 'extending');
  await waitUntil(async () => (await status(cloud, path)) === 'available');
  assert.equal(record((await cloud.api('GET', path)).body)['size'], 20);
  assert.equal((await cloud.api('GET', '/volumes?settingsId=A')).body instanceof Array, true);

  const deleting = await cloud.api('DELETE', path);
  assert.equal(deleting.status, 202);
  assert.equal(record(deleting.body)['status'], 'deleting');
  await waitUntil(async () => (await cloud.api('GET', path)).status === 404);
  assert.equal((await cloud.api('DELETE', path)).status, 404);
});
