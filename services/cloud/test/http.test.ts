import assert from 'node:assert/strict';
import { test } from 'node:test';
import { errorCode, freshKey, record, startTestCloud } from './helpers.ts';

function message(body: unknown): string {
  return String(record(record(body)['error'])['message']);
}

test('bad JSON is a 400 INVALID_JSON', async (t) => {
  const cloud = await startTestCloud();
  t.after(() => cloud.close());
  const response = await cloud.api('POST', '/servers', { rawBody: '{"name": "vm",', headers: freshKey() });
  assert.equal(response.status, 400);
  assert.equal(errorCode(response.body), 'INVALID_JSON');
  assert.match(message(response.body), /not valid JSON/);
  assert.deepEqual(cloud.state.servers.list(), []);
});

test('wrong or missing fields are a 400 VALIDATION_FAILED naming the field', async (t) => {
  const cloud = await startTestCloud();
  t.after(() => cloud.close());
  const cases: [unknown, RegExp][] = [
    [{ name: 42, settingsId: 'A' }, /"name"/],
    [{ name: 'vm' }, /"settingsId"/],
    [{ name: 'vm', settingsId: 'A', flavor: 3 }, /"flavor"/],
    [[1, 2], /JSON object/],
    [undefined, /JSON object/],
  ];
  for (const [body, pattern] of cases) {
    const response = await cloud.api('POST', '/servers', { body, headers: freshKey() });
    assert.equal(response.status, 400, JSON.stringify(body));
    assert.equal(errorCode(response.body), 'VALIDATION_FAILED');
    assert.match(message(response.body), pattern);
  }
  const volume = await cloud.api('POST', '/volumes', {
    body: { name: 'v', settingsId: 'A', size: '10' },
    headers: freshKey(),
  });
  assert.equal(volume.status, 400);
  assert.match(message(volume.body), /"size"/);
  const action = await cloud.api('POST', '/servers/x/action', { body: { action: 'explode' } });
  assert.equal(action.status, 400);
  assert.match(message(action.body), /"action"/);
});

test('a body over 1 MiB is a 413', async (t) => {
  const cloud = await startTestCloud();
  t.after(() => cloud.close());
  const response = await cloud.api('POST', '/servers', {
    body: { name: 'vm', settingsId: 'A', padding: 'x'.repeat(1024 * 1024) },
    headers: freshKey(),
  });
  assert.equal(response.status, 413);
  assert.equal(errorCode(response.body), 'PAYLOAD_TOO_LARGE');
});

test('unknown routes are 404 and wrong methods 405', async (t) => {
  const cloud = await startTestCloud();
  t.after(() => cloud.close());
  const missing = await cloud.api('GET', '/flavors');
  assert.equal(missing.status, 404);
  assert.equal(errorCode(missing.body), 'NOT_FOUND');
  const wrong = await cloud.api('PUT', '/servers');
  assert.equal(wrong.status, 405);
  assert.equal(errorCode(wrong.body), 'METHOD_NOT_ALLOWED');
  assert.equal(wrong.headers.get('allow'), 'POST, GET');
});

test('health, runtime config and request counting', async (t) => {
  const cloud = await startTestCloud();
  t.after(() => cloud.close());
  assert.deepEqual((await cloud.api('GET', '/health')).body, { ok: true });
  const config = await cloud.api('POST', '/config', { body: { buildDelayMs: 5, actionDelayMs: 7 } });
  assert.deepEqual(config.body, { buildDelayMs: 5, deleteDelayMs: 50, actionDelayMs: 7, snapshotDelayMs: 5000 });
  assert.equal((await cloud.api('POST', '/config', { body: { deleteDelayMs: -1 } })).status, 400);
  assert.deepEqual((await cloud.api('GET', '/config')).body, {
    buildDelayMs: 5,
    deleteDelayMs: 50,
    actionDelayMs: 7,
    snapshotDelayMs: 5000,
  });

  await cloud.api('GET', '/servers');
  await cloud.api('GET', '/servers/x');
  await cloud.api('GET', '/volumes');
  assert.equal(record((await cloud.api('GET', '/stats')).body)['requests'], 3);
});

test('POST /reset wipes servers, keys, faults and stats', async (t) => {
  const cloud = await startTestCloud();
  t.after(() => cloud.close());
  const key = freshKey();
  await cloud.api('POST', '/servers', { body: { name: 'vm', settingsId: 'A' }, headers: key });
  await cloud.api('POST', '/faults', { body: { op: 'get', mode: 'error' } });
  assert.equal((await cloud.api('POST', '/reset')).status, 200);
  assert.deepEqual((await cloud.api('GET', '/servers')).body, []);
  assert.deepEqual((await cloud.api('GET', '/faults')).body, []);
  assert.equal(
    (await cloud.api('POST', '/servers', { body: { name: 'vm', settingsId: 'A' }, headers: key })).status,
    201,
  );
  assert.equal(cloud.state.pendingTimers, 1);
});
