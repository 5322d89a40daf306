import assert from 'node:assert/strict';
import { test } from 'node:test';
import { errorCode, freshKey, record, startTestCloud } from './helpers.ts';

const body = { name: 'web-1', settingsId: 'A', flavor: 'm1.large', imageId: 'ubuntu-24.04' };

test('a create repeated with the same Idempotency-Key returns the same server', async (t) => {
  // a build that outlasts the test: the replay must answer the very same BUILD record, however slow the machine
  const cloud = await startTestCloud({ buildDelayMs: 60_000 });
  t.after(() => cloud.close());
  const key = freshKey();

  const first = await cloud.api('POST', '/servers', { body, headers: key });
  assert.equal(first.status, 201);
  const server = record(first.body);
  assert.equal(server['status'], 'BUILD');
  assert.equal(server['name'], 'web-1');
  assert.equal(server['settingsId'], 'A');
  assert.equal(server['flavor'], 'm1.large');
  assert.equal(typeof server['id'], 'string');
  assert.equal(typeof server['createdAt'], 'string');

  const second = await cloud.api('POST', '/servers', { body, headers: key });
  assert.equal(second.status, 200);
  assert.deepEqual(second.body, first.body);

  const list = await cloud.api('GET', '/servers?settingsId=A');
  assert.equal((list.body as unknown[]).length, 1);
  assert.equal(cloud.state.stats().settings['A']?.serversCreated, 1);

  const other = await cloud.api('POST', '/servers', { body, headers: freshKey() });
  assert.equal(other.status, 201);
  assert.notEqual(record(other.body)['id'], server['id']);
});

test('a create without Idempotency-Key is refused with 400', async (t) => {
  const cloud = await startTestCloud();
  t.after(() => cloud.close());
  const response = await cloud.api('POST', '/servers', { body });
  assert.equal(response.status, 400);
  assert.equal(errorCode(response.body), 'IDEMPOTENCY_KEY_REQUIRED');
  assert.deepEqual(cloud.state.stats().settings, {});
});

test('reusing a key for a different request is a conflict', async (t) => {
  const cloud = await startTestCloud();
  t.after(() => cloud.close());
  const key = freshKey();
  assert.equal((await cloud.api('POST', '/servers', { body, headers: key })).status, 201);
  const response = await cloud.api('POST', '/servers', { body: { ...body, name: 'web-2' }, headers: key });
  assert.equal(response.status, 409);
  assert.equal(errorCode(response.body), 'IDEMPOTENCY_CONFLICT');
});

test('volume creates honour Idempotency-Key too', async (t) => {
  const cloud = await startTestCloud();
  t.after(() => cloud.close());
  const key = freshKey();
  const volume = { name: 'data', settingsId: 'A', size: 10 };
  const first = await cloud.api('POST', '/volumes', { body: volume, headers: key });
  const second = await cloud.api('POST', '/volumes', { body: volume, headers: key });
  assert.equal(first.status, 201);
  assert.equal(second.status, 200);
  assert.equal(record(second.body)['id'], record(first.body)['id']);
  assert.equal((await cloud.api('POST', '/volumes', { body: volume })).status, 400);
});
