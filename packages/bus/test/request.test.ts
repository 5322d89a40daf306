import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import {
  commandSubject,
  COMMAND_WILDCARD,
  EXECUTOR_QUEUE_GROUP,
  QUERY_WILDCARD,
  querySubject,
} from '@jetcel/contracts';
import {
  InvalidReplyPrefixError,
  isInboxReply,
  NoRespondersError,
  parseReplyPrefixes,
  replyPrefix,
  requestJson,
  RequestTimeoutError,
  serveRequests,
  type Bus,
  type RefusedRequest,
  type RequestServer,
  type ServeRequestsOptions,
} from '../src/index.ts';
import { startNats, type NatsServerHandle } from '@jetcel/testing';
import { openBus, rawPublish, sleep, text } from './helpers.ts';

const MAX_BYTES = 256 * 1024;

describe('request-reply', () => {
  let nats: NatsServerHandle;
  let client: Bus;
  let executorA: Bus;
  let executorB: Bus;
  const servers: RequestServer[] = [];

  const serve = (
    bus: Bus,
    options: Partial<ServeRequestsOptions> & Pick<ServeRequestsOptions, 'handler'>,
  ): RequestServer => {
    const server = serveRequests(bus, {
      subjects: [COMMAND_WILDCARD, QUERY_WILDCARD],
      queue: EXECUTOR_QUEUE_GROUP,
      maxBytes: MAX_BYTES,
      onTooLarge: ({ size }) => JSON.stringify({ ok: false, error: { code: 'PAYLOAD_TOO_LARGE', size } }),
      ...options,
    });
    servers.push(server);
    return server;
  };

  before(async () => {
    nats = await startNats();
    [client, executorA, executorB] = await Promise.all([
      openBus(nats, 'client'),
      openBus(nats, 'executor-a'),
      openBus(nats, 'executor-b'),
    ]);
  });
  after(async () => {
    await Promise.all([client, executorA, executorB].map((b) => b?.close()));
    await nats?.[Symbol.asyncDispose]();
  });
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.stop()));
  });

  test('two servers in one queue group: every request is handled and answered exactly once', async () => {
    const handledBy = new Map<string, string[]>();
    const handler =
      (name: string): ServeRequestsOptions['handler'] =>
      async (request) => {
        const { id } = JSON.parse(text(request.data)) as { id: string };
        handledBy.set(id, [...(handledBy.get(id) ?? []), name]);
        await sleep(5);
        return JSON.stringify({
          ok: true,
          data: { id, by: name, subject: request.subject, key: request.headers['Idempotency-Key'] },
        });
      };
    serve(executorA, { handler: handler('a') });
    serve(executorB, { handler: handler('b') });
    await Promise.all([executorA.nc.flush(), executorB.nc.flush()]);

    const replies = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        requestJson(
          client,
          commandSubject('instance', 'create'),
          { id: `r${i}` },
          { headers: { 'Idempotency-Key': `k${i}` } },
        ),
      ),
    );
    replies.forEach((reply, i) => {
      const { data } = reply as { data: { id: string; subject: string; key: string } };
      assert.equal(data.id, `r${i}`);
      assert.equal(data.subject, 'cmd.instance.create');
      assert.equal(data.key, `k${i}`);
    });
    assert.equal(handledBy.size, 40);
    assert.ok(
      [...handledBy.values()].every((by) => by.length === 1),
      'no request handled twice',
    );
    const byA = [...handledBy.values()].filter((by) => by[0] === 'a').length;
    assert.ok(byA > 0 && byA < 40, `load is shared (a handled ${byA} of 40)`);
  });

  test('a request above maxBytes (header block and body together) is answered by onTooLarge without calling the handler', async () => {
    let calls = 0;
    serve(executorA, {
      handler: async () => {
        calls++;
        return '{"ok":true,"data":{}}';
      },
    });
    await executorA.nc.flush();
    const big = new Uint8Array(300 * 1024).fill(0x7b); // not even JSON: it must never be parsed
    const reply = await requestJson(client, commandSubject('instance', 'create'), big);
    assert.deepEqual(reply, { ok: false, error: { code: 'PAYLOAD_TOO_LARGE', size: 300 * 1024 } });
    assert.equal(calls, 0);

    // The header block counts too: big headers with a small body are refused unread.
    const padded = await requestJson(client, commandSubject('instance', 'create'), '{}', {
      headers: { 'X-Padding': 'p'.repeat(300 * 1024) },
    });
    const { error } = padded as { error: { code: string; size: number } };
    assert.equal(error.code, 'PAYLOAD_TOO_LARGE');
    assert.ok(error.size > 300 * 1024, `size ${error.size} counts the headers`);
    assert.equal(calls, 0);

    const small = await requestJson(client, querySubject('instance', 'list'), { page: 1 });
    assert.deepEqual(small, { ok: true, data: {} });
    assert.equal(calls, 1);
  });

  test('beyond maxInFlight a request is answered by onBusy at once, and served again once one finishes', async () => {
    let release = (): void => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    let calls = 0;
    serve(executorA, {
      maxInFlight: 2,
      onBusy: ({ inFlight }) => JSON.stringify({ ok: false, error: { code: 'UNAVAILABLE', inFlight } }),
      handler: async () => {
        calls++;
        await gate;
        return '{"ok":true,"data":{}}';
      },
    });
    await executorA.nc.flush();
    const held = [1, 2].map(() => requestJson(client, querySubject('instance', 'list'), {}));
    await sleep(100);
    const started = performance.now();
    const busy = await requestJson(client, querySubject('instance', 'list'), {}, { timeoutMs: 1000 }).finally(release);
    assert.deepEqual(busy, { ok: false, error: { code: 'UNAVAILABLE', inFlight: 2 } });
    assert.ok(performance.now() - started < 500, 'answered at once');
    assert.equal(calls, 2, 'the busy request never reached the handler');
    assert.deepEqual(await Promise.all(held), [
      { ok: true, data: {} },
      { ok: true, data: {} },
    ]);
    assert.deepEqual(await requestJson(client, querySubject('instance', 'list'), {}), { ok: true, data: {} });
  });

  test('without onBusy, the refusal is a retryable UNAVAILABLE envelope', async () => {
    let release = (): void => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    serve(executorA, {
      maxInFlight: 1,
      handler: async () => {
        await gate;
        return '{"ok":true,"data":{}}';
      },
    });
    await executorA.nc.flush();
    const held = requestJson(client, querySubject('instance', 'list'), {});
    await sleep(100);
    const busy = (await requestJson(client, querySubject('instance', 'list'), {}, { timeoutMs: 1000 }).finally(
      release,
    )) as { error: { code: string; retryable: boolean } };
    await held;
    assert.equal(busy.error.code, 'UNAVAILABLE');
    assert.equal(busy.error.retryable, true);
  });

  test('a header name nats.js cannot parse loses no other header', async () => {
    const seen: Array<Record<string, string>> = [];
    serve(executorA, {
      handler: async (request) => {
        seen.push(request.headers);
        return '{"ok":true,"data":{}}';
      },
    });
    await executorA.nc.flush();
    await rawPublish(
      nats,
      commandSubject('instance', 'create'),
      ['Bad Key: v', 'clé: w', 'Idempotency-Key:  k-1 ', 'Actor: a', 'Actor: b'],
      '{}',
      '_INBOX.raw',
    );
    for (let i = 0; i < 100 && seen.length === 0; i++) await sleep(20);
    assert.deepEqual(seen, [{ 'Bad Key': 'v', clé: 'w', 'Idempotency-Key': 'k-1', Actor: 'b' }]);
  });

  test('a throwing handler still gets exactly one reply and is reported', async () => {
    const errors: unknown[] = [];
    serve(executorA, {
      onError: (err) => errors.push(err),
      handler: async () => {
        throw new Error('handler exploded');
      },
    });
    await executorA.nc.flush();
    const reply = await requestJson(client, commandSubject('instance', 'delete'), { id: 'x' });
    assert.deepEqual(reply, { ok: false, error: { code: 'INTERNAL', message: 'internal error', retryable: true } });
    assert.equal(errors.length, 1);
    assert.equal((errors[0] as Error).message, 'handler exploded');
  });

  test('no server: NoRespondersError; a server that does not answer in time: RequestTimeoutError', async () => {
    const none = await requestJson(client, commandSubject('nobody', 'home'), {}).catch((e: unknown) => e);
    assert.ok(none instanceof NoRespondersError, String(none));
    assert.equal(none.code, 'NO_RESPONDERS');

    serve(executorA, {
      handler: async () => {
        await sleep(500);
        return '{}';
      },
    });
    await executorA.nc.flush();
    const slow = await requestJson(client, commandSubject('instance', 'pull'), {}, { timeoutMs: 100 }).catch(
      (e: unknown) => e,
    );
    assert.ok(slow instanceof RequestTimeoutError, String(slow));
    assert.equal(slow.code, 'REQUEST_TIMEOUT');
  });

  test('stop() waits for requests in flight and then no longer receives', async () => {
    let finished = 0;
    const server = serve(executorA, {
      handler: async () => {
        await sleep(300);
        finished++;
        return '{"ok":true,"data":null}';
      },
    });
    await executorA.nc.flush();
    const pending = requestJson(client, commandSubject('instance', 'resize'), {});
    await sleep(100);
    await server.stop();
    assert.equal(finished, 1, 'stop waited for the request in flight');
    assert.deepEqual(await pending, { ok: true, data: null });
    const after = await requestJson(client, commandSubject('instance', 'resize'), {}).catch((e: unknown) => e);
    assert.ok(after instanceof NoRespondersError);
  });

  test('a reply subject that is not an inbox gets no reply and no handler work; no reply subject neither', async () => {
    let calls = 0;
    const refusals: RefusedRequest[] = [];
    serve(executorA, {
      onRefused: (refusal) => refusals.push(refusal),
      handler: async () => {
        calls++;
        return '{"ok":true,"data":{}}';
      },
    });
    await executorA.nc.flush();
    // What a caller could name: a task subject, an event, a lease key, the JetStream API.
    const targets = [
      'tasks.regular',
      'events.instance.x.state_changed',
      '$KV.LEASES.instance_provision.ZGVmYXVsdA.0',
      '$JS.API.STREAM.PURGE.TASKS_REGULAR',
      '_INBOXX.a',
      '_INBOX',
      '_INBOX.',
      '_INBOX..a',
      '_INBOX.a..b',
      '_INBOX.a.',
      '_INBOX.a b',
      '_INBOX.a\tb',
      `_INBOX.${'a'.repeat(300)}`,
    ];
    const received: string[] = [];
    const spy = client.nc.subscribe('>', { callback: (_err, msg) => void received.push(msg.subject) });
    for (const reply of targets) {
      try {
        client.nc.publish(commandSubject('instance', 'create'), '{}', { reply });
      } catch {
        // nats.js refuses some of them itself (a space); the server must never see the rest answered
      }
    }
    client.nc.publish(commandSubject('instance', 'create'), '{}'); // no reply subject at all
    await client.nc.flush();
    await sleep(200);
    await executorA.nc.flush();
    spy.unsubscribe();
    assert.equal(calls, 0, 'the handler never ran');
    assert.deepEqual(
      received.filter((subject) => !subject.startsWith('cmd.')),
      [],
      'nothing was published anywhere but the requests themselves',
    );
    assert.ok(refusals.some((refusal) => refusal.reason === 'no_reply' && refusal.reply === ''));
    const refusedReplies = refusals.filter((refusal) => refusal.reason === 'reply_subject').map((r) => r.reply);
    for (const reply of targets.slice(0, 4)) assert.ok(refusedReplies.includes(reply), `${reply} refused`);
    assert.ok(refusals.every((refusal) => refusal.subject === 'cmd.instance.create'));

    // An inbox still gets its answer.
    assert.deepEqual(await requestJson(client, querySubject('instance', 'list'), {}), { ok: true, data: {} });
    assert.equal(calls, 1);
  });

  test('configured reply prefixes narrow where the server answers; a prefix outside _INBOX is refused', async () => {
    serve(executorA, { replyPrefixes: ['_INBOX.app-billing'], handler: async () => '{"ok":true,"data":1}' });
    await executorA.nc.flush();
    const billing = await openBus(nats, 'billing');
    try {
      // connectBus without a user keeps nats.js' `_INBOX.<nuid>`: not under the configured prefix
      const other = await requestJson(client, querySubject('x', 'y'), {}, { timeoutMs: 300 }).catch((e: unknown) => e);
      assert.ok(other instanceof RequestTimeoutError, String(other));
      const inbox = `_INBOX.app-billing.${Date.now()}`;
      const answered = new Promise<string>((resolve) =>
        billing.nc.subscribe(inbox, { max: 1, callback: (_err, msg) => resolve(text(msg.data)) }),
      );
      await billing.nc.flush();
      billing.nc.publish(querySubject('x', 'y'), '{}', { reply: inbox });
      assert.equal(await answered, '{"ok":true,"data":1}');
    } finally {
      await billing.close();
    }

    assert.equal(replyPrefix('_INBOX'), '_INBOX.');
    assert.equal(replyPrefix('_INBOX.app-billing.'), '_INBOX.app-billing.');
    assert.deepEqual(parseReplyPrefixes(' , '), ['_INBOX.']);
    assert.deepEqual(parseReplyPrefixes('_INBOX.client,_INBOX.dashboard.'), ['_INBOX.client.', '_INBOX.dashboard.']);
    for (const bad of ['tasks.', '$KV.', '_INBOX.*', '_INBOX.>', '_INBOX..a', '_INBOX.a b', '_INBOXES', '']) {
      assert.throws(() => replyPrefix(bad), InvalidReplyPrefixError, bad);
    }
    assert.throws(
      () => serveRequests(executorA, { ...baseOptions(), replyPrefixes: ['events.'] }),
      InvalidReplyPrefixError,
    );
    assert.equal(isInboxReply('_INBOX.app-billing-2.x', ['_INBOX.app-billing.']), false);
    assert.equal(isInboxReply('_INBOX.app-billing.x.1', ['_INBOX.app-billing.']), true);
  });
});

function baseOptions(): ServeRequestsOptions {
  return {
    subjects: [COMMAND_WILDCARD],
    queue: EXECUTOR_QUEUE_GROUP,
    maxBytes: MAX_BYTES,
    handler: async () => '{}',
    onTooLarge: () => '{}',
  };
}
