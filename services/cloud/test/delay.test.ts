import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { CloudState } from '../src/index.ts';
import { errorCode, freshKey, record, startTestCloud, waitUntil, type ApiResponse, type TestCloud } from './helpers.ts';

function createServer(cloud: TestCloud, headers = freshKey(), signal?: AbortSignal): Promise<ApiResponse> {
  return cloud.api('POST', '/servers', {
    body: { name: 'vm', settingsId: 'A' },
    headers,
    ...(signal === undefined ? {} : { signal }),
  });
}

async function addFault(cloud: TestCloud, body: Record<string, unknown>): Promise<ApiResponse> {
  return cloud.api('POST', '/faults', { body });
}

/** Runs `request` and reports when it settled, so that a test can look at the cloud meanwhile. */
function track<T>(request: Promise<T>): { settled: () => boolean; outcome: Promise<T> } {
  let done = false;
  const outcome = request.finally(() => {
    done = true;
  });
  return { settled: () => done, outcome };
}

test("mode 'delay' on create: the server exists at once, the 201 comes after delayMs", async (t) => {
  const cloud = await startTestCloud({ buildDelayMs: 5000 });
  t.after(() => cloud.close());
  const added = await addFault(cloud, { op: 'create', mode: 'delay', delayMs: 600, count: 1 });
  assert.equal(added.status, 201);
  assert.equal(record(added.body)['delayMs'], 600);

  const started = performance.now();
  const create = track(createServer(cloud));
  let listed: unknown[] = [];
  await waitUntil(
    async () => {
      listed = (await cloud.api('GET', '/servers')).body as unknown[];
      return listed.length === 1;
    },
    2000,
    'the delayed server to be listed',
  );
  assert.equal(create.settled(), false, 'the server is listed before the answer arrives');
  assert.equal(cloud.state.stats().settings['A']?.serversCreated, 1);

  const response = await create.outcome;
  assert.ok(performance.now() - started >= 600, `answered after ${performance.now() - started} ms`);
  assert.equal(response.status, 201);
  assert.equal(record(response.body)['id'], record(listed[0])['id']);
  assert.equal(record(response.body)['status'], 'BUILD');
});

test('a client that aborts a delayed create loses the answer, but the server exists and the key replays it', async (t) => {
  const cloud = await startTestCloud({ buildDelayMs: 5000 });
  t.after(() => cloud.close());
  await addFault(cloud, { op: 'create', mode: 'delay', delayMs: 1000, count: 1 });
  const key = freshKey();
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 100);

  const started = performance.now();
  await assert.rejects(createServer(cloud, key, controller.signal), (error: Error) => error.name === 'AbortError');
  assert.ok(performance.now() - started < 900);
  const servers = cloud.state.servers.list();
  assert.equal(servers.length, 1);

  const retry = await createServer(cloud, key);
  assert.equal(retry.status, 200);
  assert.equal(record(retry.body)['id'], servers[0]?.id);
  assert.equal(cloud.state.stats().settings['A']?.serversCreated, 1);

  await sleep(1000); // the dropped reply's timer runs out without harm
  assert.equal(cloud.state.servers.list().length, 1);
});

test('count limits how many requests a delay rule holds back', async (t) => {
  const cloud = await startTestCloud();
  t.after(() => cloud.close());
  await addFault(cloud, { op: 'create', mode: 'delay', delayMs: 300, count: 2 });
  const elapsed: number[] = [];
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const started = performance.now();
    assert.equal((await createServer(cloud)).status, 201);
    elapsed.push(performance.now() - started);
  }
  assert.ok(elapsed[0] !== undefined && elapsed[0] >= 300, `first: ${elapsed[0]} ms`);
  assert.ok(elapsed[1] !== undefined && elapsed[1] >= 300, `second: ${elapsed[1]} ms`);
  assert.ok(elapsed[2] !== undefined && elapsed[2] < 300, `third: ${elapsed[2]} ms`);
  assert.deepEqual((await cloud.api('GET', '/faults')).body, []);
  assert.equal(cloud.state.servers.list().length, 3);
});

test('delete, get, update and action replies are delayed too; settingsId and resource filter', async (t) => {
  const cloud = await startTestCloud({ buildDelayMs: 50, deleteDelayMs: 5000 });
  t.after(() => cloud.close());
  const id = String(record((await createServer(cloud)).body)['id']);
  await waitUntil(() => cloud.state.servers.get(id).status === 'ACTIVE', 2000, 'the build');

  await addFault(cloud, { op: 'update', mode: 'delay', delayMs: 300, settingsId: 'B' });
  await addFault(cloud, { op: 'action', mode: 'delay', delayMs: 300, resource: 'volume' });
  let started = performance.now();
  assert.equal((await cloud.api('PATCH', `/servers/${id}`, { body: { name: 'fast' } })).status, 200);
  assert.equal((await cloud.api('POST', `/servers/${id}/action`, { body: { action: 'stop' } })).status, 202);
  assert.ok(performance.now() - started < 300, 'rules for another settings or resource do not fire');
  await cloud.api('DELETE', '/faults');

  await addFault(cloud, { op: 'get', mode: 'delay', delayMs: 300, count: 1 });
  started = performance.now();
  const missing = await cloud.api('GET', '/servers/nope');
  assert.ok(performance.now() - started >= 300);
  assert.equal(errorCode(missing.body), 'NOT_FOUND', 'an error reply is held back as well');

  await addFault(cloud, { op: 'delete', mode: 'delay', delayMs: 300, count: 1 });
  const deletion = track(cloud.api('DELETE', `/servers/${id}`));
  await waitUntil(() => cloud.state.servers.get(id).status === 'DELETING', 1000, 'the delete to start');
  assert.equal(deletion.settled(), false);
  const deleted = await deletion.outcome;
  assert.equal(deleted.status, 202);
  assert.equal(record(deleted.body)['status'], 'DELETING');
});

test('closing the cloud releases delayed replies without waiting for them', async () => {
  const cloud = await startTestCloud();
  await addFault(cloud, { op: 'get', mode: 'delay', delayMs: 600_000 });
  const pending = cloud.api('GET', '/servers').then(
    () => 'answered',
    () => 'released',
  );
  await sleep(100);
  const closedAt = performance.now();
  await cloud.close();
  assert.equal(await pending, 'released');
  assert.ok(performance.now() - closedAt < 1000);
});

test("op 'build' with mode 'delay' makes the build take delayMs longer", async (t) => {
  const cloud = await startTestCloud({ buildDelayMs: 50 });
  t.after(() => cloud.close());
  await addFault(cloud, { op: 'build', mode: 'delay', delayMs: 400, count: 1 });
  const started = performance.now();
  const slow = String(record((await createServer(cloud)).body)['id']);
  const fast = String(record((await createServer(cloud)).body)['id']);
  await waitUntil(() => cloud.state.servers.get(fast).status === 'ACTIVE', 2000, 'the normal build');
  assert.equal(cloud.state.servers.get(slow).status, 'BUILD');
  assert.equal(cloud.state.stats().settings['A']?.building, 1);

  await waitUntil(() => cloud.state.servers.get(slow).status === 'ACTIVE', 2000, 'the delayed build');
  assert.ok(performance.now() - started >= 450);
  assert.equal(cloud.state.stats().settings['A']?.building, 0);

  // a delete during the extra time cancels the build like any other
  await addFault(cloud, { op: 'build', mode: 'delay', delayMs: 400, count: 1 });
  const doomed = String(record((await createServer(cloud)).body)['id']);
  await sleep(150);
  assert.equal((await cloud.api('DELETE', `/servers/${doomed}`)).status, 202);
  await waitUntil(() => !cloud.state.servers.has(doomed), 2000, 'the delete');
  assert.equal(cloud.state.stats().settings['A']?.building, 0);
});

test('delay rules are validated', async (t) => {
  const cloud = await startTestCloud();
  t.after(() => cloud.close());
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ op: 'create', mode: 'delay' }, /"delayMs" is required/],
    [{ op: 'create', mode: 'delay', delayMs: 0 }, /"delayMs"/],
    [{ op: 'create', mode: 'delay', delayMs: 600_001 }, /"delayMs"/],
    [{ op: 'create', mode: 'delay', delayMs: 1.5 }, /"delayMs"/],
    [{ op: 'create', mode: 'error', delayMs: 100 }, /only allowed with mode delay/],
    [{ op: 'create', mode: 'delay', delayMs: 100, applied: true }, /"applied"/],
    [{ op: 'create', mode: 'delay', delayMs: 100, statusCode: 503 }, /"statusCode"/],
  ];
  for (const [body, pattern] of cases) {
    const response = await addFault(cloud, body);
    assert.equal(response.status, 400, JSON.stringify(body));
    assert.equal(errorCode(response.body), 'VALIDATION_FAILED');
    assert.match(String(record(record(response.body)['error'])['message']), pattern);
  }
  assert.equal((await addFault(cloud, { op: 'create', mode: 'delay', delayMs: 600_000 })).status, 201);
  assert.equal((await addFault(cloud, { op: 'create', mode: 'error' })).status, 201);
  const rules = (await cloud.api('GET', '/faults')).body as unknown[];
  assert.deepEqual(
    rules.map((rule) => record(rule)['delayMs']),
    [600_000, null],
  );
});

test('used without HTTP, a delay rule is used up and the operation simply happens', () => {
  const state = new CloudState({ buildDelayMs: 5000 });
  try {
    state.addFault({ op: 'create', mode: 'delay', delayMs: 1000, count: 1 });
    const { created } = state.servers.create({ name: 'vm', settingsId: 'A' });
    assert.equal(created, true);
    assert.deepEqual(state.listFaults(), []);
  } finally {
    state.dispose();
  }
});
