import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { EVENTS_STREAM, eventSubject, HEADERS, taskStream, taskSubject } from '@jetcel/contracts';
import {
  applyTopology,
  BusError,
  defineTopology,
  NoStreamError,
  publish,
  publishCore,
  PublishTimeoutError,
  readStreamMessages,
  StreamFullError,
  streamInfo,
  subscribeCore,
} from '../src/index.ts';
import { eventually, text, useTestBus } from './helpers.ts';

describe('publish', () => {
  const server = useTestBus({ cleanStreams: true });

  test('the same msgId is stored once; the repeat reports duplicate with the same seq', async () => {
    await applyTopology(server.bus, defineTopology());
    const subject = taskSubject('regular');
    const first = await publish(server.bus, subject, '{"n":1}', { msgId: 'outbox-1', headers: { Actor: 'alice' } });
    const again = await publish(server.bus, subject, '{"n":1}', { msgId: 'outbox-1' });
    const other = await publish(server.bus, subject, '{"n":2}', { msgId: 'outbox-2' });
    assert.deepEqual(first, { seq: 1, duplicate: false });
    assert.deepEqual(again, { seq: 1, duplicate: true });
    assert.deepEqual(other, { seq: 2, duplicate: false });

    const stored = await readStreamMessages(server.bus, taskStream('regular'));
    assert.deepEqual(
      stored.map((m) => [m.seq, text(m.data), m.headers[HEADERS.msgId], m.headers['Actor']]),
      [
        [1, '{"n":1}', 'outbox-1', 'alice'],
        [2, '{"n":2}', 'outbox-2', undefined],
      ],
    );
    assert.equal((await streamInfo(server.bus, taskStream('regular'))).messages, 2);
  });

  test('the connection builds no Error per request for its call site (a stack capture per publish)', () => {
    const { options } = server.bus.nc as unknown as { options: { noAsyncTraces?: boolean } };
    assert.equal(options.noAsyncTraces, true);
  });

  test('a full discard-new stream refuses with StreamFullError and keeps what it holds', async () => {
    await applyTopology(server.bus, defineTopology({ maxBytes: { heavy: 2048 } }));
    const subject = taskSubject('heavy');
    const payload = 'x'.repeat(400);
    const accepted: number[] = [];
    let refusal: unknown;
    for (let i = 0; i < 10 && refusal === undefined; i++) {
      try {
        accepted.push((await publish(server.bus, subject, payload, { msgId: `m-${i}` })).seq);
      } catch (err) {
        refusal = err;
      }
    }
    assert.ok(refusal instanceof StreamFullError, `expected StreamFullError, got ${String(refusal)}`);
    assert.equal(refusal.code, 'STREAM_FULL');
    assert.ok(accepted.length >= 2 && accepted.length < 10, `accepted ${accepted.length}`);
    const info = await streamInfo(server.bus, taskStream('heavy'));
    assert.equal(info.firstSeq, 1, 'nothing was evicted');
    assert.equal(info.messages, accepted.length);
  });

  test('a subject no stream captures gives NoStreamError', async () => {
    await applyTopology(server.bus, defineTopology());
    const err = await publish(server.bus, 'nowhere.at.all', 'x', { msgId: 'a' }).catch((e: unknown) => e);
    assert.ok(err instanceof NoStreamError, String(err));
    assert.equal(err.code, 'NO_STREAM');
  });

  test('a missing PubAck gives PublishTimeoutError', async () => {
    // a core subscriber that never answers stands in for a stream that does not ack
    const unsubscribe = subscribeCore(server.bus, 'silent.stream', () => {});
    try {
      await server.bus.nc.flush();
      const err = await publish(server.bus, 'silent.stream', 'x', { msgId: 'a', timeoutMs: 200 }).catch(
        (e: unknown) => e,
      );
      assert.ok(err instanceof PublishTimeoutError, String(err));
      assert.equal(err.code, 'PUBLISH_TIMEOUT');
      assert.ok(err instanceof BusError);
    } finally {
      unsubscribe();
    }
  });

  test('events: readStreamMessages filters by subject; publishCore reaches core subscribers', async () => {
    await applyTopology(server.bus, defineTopology());
    await publish(server.bus, eventSubject('instance', 'i-1', 'state_changed'), 'a', { msgId: 'e1' });
    await publish(server.bus, eventSubject('volume', 'v-1', 'state_changed'), 'b', { msgId: 'e2' });
    await publish(server.bus, eventSubject('instance', 'i-1', 'deleted'), 'c', { msgId: 'e3' });

    const instance = await readStreamMessages(server.bus, EVENTS_STREAM, { subject: 'events.instance.>' });
    assert.deepEqual(
      instance.map((m) => [m.seq, m.subject, text(m.data)]),
      [
        [1, 'events.instance.i-1.state_changed', 'a'],
        [3, 'events.instance.i-1.deleted', 'c'],
      ],
    );
    assert.equal((await readStreamMessages(server.bus, EVENTS_STREAM, { max: 2 })).length, 2);

    const seen: string[] = [];
    const unsubscribe = subscribeCore(server.bus, 'notify.>', (m) =>
      seen.push(`${m.subject}:${text(m.data)}:${m.headers['k']}`),
    );
    await server.bus.nc.flush();
    publishCore(server.bus, 'notify.one', 'hello', { k: 'v' });
    await eventually(() => seen.length === 1, { message: 'core message' });
    unsubscribe();
    assert.deepEqual(seen, ['notify.one:hello:v']);
  });
});
