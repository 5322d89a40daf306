import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { serveRequests, type IncomingRequest, type RequestServer } from '@jetcel/bus';
import { COMMAND_WILDCARD, EXECUTOR_QUEUE_GROUP, HEADERS, QUERY_WILDCARD } from '@jetcel/contracts';
import { startNats, type NatsServerHandle } from '@jetcel/testing';
import { JetcelClient, JetcelClientError, subjectKind } from '../src/index.ts';

// A stand-in executor on a real nats-server: it records what arrived and answers by subject.
let nats: NatsServerHandle;
let executor: JetcelClient;
let server: RequestServer;
const seen: IncomingRequest[] = [];

before(async () => {
  nats = await startNats();
  executor = await JetcelClient.connect({ servers: nats.url, name: 'fake-executor' });
  server = serveRequests(executor.bus, {
    subjects: [COMMAND_WILDCARD, QUERY_WILDCARD],
    queue: EXECUTOR_QUEUE_GROUP,
    maxBytes: 1024,
    onTooLarge: () => '{}',
    async handler(request) {
      seen.push(request);
      if (request.subject === 'query.thing.broken') return 'not json';
      if (request.subject === 'cmd.thing.refuse')
        return JSON.stringify({
          ok: false,
          error: { code: 'FORBIDDEN', message: 'not yours', retryable: false },
        });
      return JSON.stringify({ ok: true, data: { echo: request.subject } });
    },
  });
});
after(async () => {
  await server?.stop();
  await executor?.close();
  await nats?.[Symbol.asyncDispose]();
});

test('every command carries a fresh Idempotency-Key (or the given one) and the bearer token; queries carry no key', async () => {
  const client = await JetcelClient.connect({ servers: nats.url, token: 'a.b.c' });
  try {
    seen.length = 0;
    assert.deepEqual(await client.request('cmd.thing.make', { n: 1 }), { echo: 'cmd.thing.make' });
    await client.request('cmd.thing.make', { n: 1 });
    await client.request('cmd.thing.make', { n: 1 }, { idempotencyKey: 'mine' });
    await client.request('query.thing.get', {});
    const keys = seen.map((request) => request.headers[HEADERS.idempotencyKey]);
    assert.match(keys[0] ?? '', /^[0-9a-f-]{36}$/);
    assert.notEqual(keys[0], keys[1], 'each command gets its own key');
    assert.equal(keys[2], 'mine');
    assert.equal(keys[3], undefined, 'queries are not keyed');
    assert.ok(seen.every((request) => request.headers[HEADERS.authorization] === 'Bearer a.b.c'));
  } finally {
    await client.close();
  }
});

test('error replies, bad replies and missing responders become typed JetcelClientErrors', async () => {
  const client = await JetcelClient.connect({ servers: nats.url, timeoutMs: 1000 });
  try {
    await assert.rejects(client.request('cmd.thing.refuse', {}), (error: unknown) => {
      assert.ok(error instanceof JetcelClientError);
      assert.equal(error.kind, 'reply');
      assert.equal(error.code, 'FORBIDDEN');
      return true;
    });
    await assert.rejects(
      client.request('query.thing.broken', {}),
      (error: unknown) => error instanceof JetcelClientError && error.code === 'BAD_REPLY',
    );
    await server.stop();
    await assert.rejects(
      client.request('query.thing.get', {}),
      (error: unknown) => error instanceof JetcelClientError && error.kind === 'transport' && error.retryable,
    );
  } finally {
    await client.close();
  }
});

test('only cmd.* and query.* subjects are sent', () => {
  assert.equal(subjectKind('cmd.instance.create'), 'command');
  assert.equal(subjectKind('query.instance.get'), 'query');
  for (const subject of ['tasks.regular.x', 'cmd.instance', 'cmd.>', 'query.a.b.c', 'cmd.a b.c'])
    assert.throws(() => subjectKind(subject), JetcelClientError, subject);
});
