import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { taskStream, taskSubject } from '@jetcel/contracts';
import {
  applyTopology,
  connectBus,
  defineTopology,
  publish,
  PublishTimeoutError,
  startConsumer,
  streamInfo,
  type Bus,
  type BusStatusEvent,
} from '../src/index.ts';
import { startNats, type NatsServerHandle } from '@jetcel/testing';
import { eventually, sleep, text } from './helpers.ts';

const SUBJECT = taskSubject('regular');

describe('nats-server restart', () => {
  let nats: NatsServerHandle;
  let bus: Bus;
  const statuses: BusStatusEvent[] = [];

  before(async () => {
    nats = await startNats();
    bus = await connectBus({
      servers: nats.url,
      name: 'restart-test',
      reconnectTimeWaitMs: 200,
      onStatus: (event) => statuses.push(event),
    });
  });
  after(async () => {
    await bus?.close();
    await nats?.[Symbol.asyncDispose]();
  });

  test('the consumer keeps working after the server is restarted on the same port and store', async () => {
    await applyTopology(bus, defineTopology());
    const handled: string[] = [];
    const errors: unknown[] = [];
    const handle = await startConsumer(bus, {
      queue: 'regular',
      concurrency: 2,
      onError: (err) => errors.push(err),
      handler: async (d) => {
        const body = text(d.data);
        handled.push(body);
        if (body === 'slow') await sleep(1_500); // still running while the server restarts
        return { kind: 'ack' };
      },
    });
    try {
      for (const body of ['before-1', 'before-2']) await publish(bus, SUBJECT, body, { msgId: body });
      await eventually(() => handle.stats().acked === 2, { message: 'first messages' });

      await publish(bus, SUBJECT, 'slow', { msgId: 'slow' });
      await eventually(() => handle.inFlight() === 1, { message: 'slow message in flight' });

      await nats.stop();
      const down = await publish(bus, SUBJECT, 'while-down', { msgId: 'while-down', timeoutMs: 300 }).catch(
        (e: unknown) => e,
      );
      assert.ok(down instanceof PublishTimeoutError, String(down));
      await nats.restart();

      // the outbox would retry exactly like this, with the same msgId
      for (const body of ['while-down', 'after-1', 'after-2']) {
        await eventually(() => publish(bus, SUBJECT, body, { msgId: body, timeoutMs: 1_000 }), {
          message: `publish ${body}`,
          timeoutMs: 15_000,
          intervalMs: 200,
        });
      }
      await eventually(() => handle.stats().acked === 6, { message: 'all six acked', timeoutMs: 15_000 });

      assert.deepEqual([...handled].sort(), ['after-1', 'after-2', 'before-1', 'before-2', 'slow', 'while-down']);
      // Acks are not confirmed: the last one may still be on its way when the counter says 6.
      await eventually(async () => (await streamInfo(bus, taskStream('regular'))).messages === 0, {
        message: 'stream empty',
      });
      assert.ok(
        statuses.some((s) => s.type === 'disconnect'),
        'disconnect was reported',
      );
      assert.ok(
        statuses.some((s) => s.type === 'reconnect'),
        'reconnect was reported',
      );
    } finally {
      await handle.stop({ deadlineMs: 1_000 });
    }
  });
});
