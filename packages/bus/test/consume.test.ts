import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { taskConsumer, taskStream, taskSubject } from '@jetcel/contracts';
import {
  applyTopology,
  consumerInfo,
  defineTopology,
  publish,
  startConsumer,
  streamInfo,
  type Bus,
  type ConsumerHandle,
  type ConsumerStats,
  type Delivery,
  Heartbeats,
} from '../src/index.ts';
import { startNats, type NatsServerHandle } from '@jetcel/testing';
import { deleteAllStreams, eventually, openBus, rawPublish, sleep, text } from './helpers.ts';

const STREAM = taskStream('regular');
const DURABLE = taskConsumer('regular');
const SUBJECT = taskSubject('regular');

describe('startConsumer', () => {
  let nats: NatsServerHandle;
  let bus: Bus;
  const handles: ConsumerHandle[] = [];

  const start = async (options: Parameters<typeof startConsumer>[1]): Promise<ConsumerHandle> => {
    const handle = await startConsumer(bus, options);
    handles.push(handle);
    return handle;
  };
  /** The settlement counters, without the pull count (which depends on timing). */
  const settlements = (handle: ConsumerHandle): Omit<ConsumerStats, 'pulls'> => {
    const { pulls: _pulls, ...counts } = handle.stats();
    return counts;
  };
  const publishMany = async (count: number, prefix = 'm'): Promise<void> => {
    for (let i = 0; i < count; i++) await publish(bus, SUBJECT, `${prefix}-${i}`, { msgId: `${prefix}-${i}` });
  };

  before(async () => {
    nats = await startNats();
    bus = await openBus(nats);
  });
  after(async () => {
    await bus?.close();
    await nats?.[Symbol.asyncDispose]();
  });
  beforeEach(async () => {
    await deleteAllStreams(bus);
  });
  afterEach(async () => {
    await Promise.all(handles.splice(0).map((h) => h.stop({ deadlineMs: 100 })));
  });

  test('pulls only for free slots: never more than `concurrency` unacked, each message handled once', async () => {
    await applyTopology(bus, defineTopology());
    await publishMany(20);
    const concurrency = 3;
    const handled = new Map<string, number>();
    let running = 0;
    let peakRunning = 0;
    const handle = await start({
      queue: 'regular',
      concurrency,
      handler: async (d) => {
        running++;
        peakRunning = Math.max(peakRunning, running);
        handled.set(text(d.data), (handled.get(text(d.data)) ?? 0) + 1);
        await sleep(150);
        running--;
        return { kind: 'ack' };
      },
    });

    let peakAckPending = 0;
    let sawBacklog = false;
    while (handle.stats().acked < 20) {
      const info = await consumerInfo(bus, STREAM, DURABLE);
      peakAckPending = Math.max(peakAckPending, info.numAckPending);
      if (info.numPending > 0) sawBacklog = true;
      assert.ok(handle.inFlight() <= concurrency);
      await sleep(40);
    }
    assert.ok(sawBacklog, 'messages were waiting in the stream while handlers ran');
    // A slot is free once its ack is written, so the server may still count that message until it
    // reads the ack: at most `concurrency` in the handlers plus as many acks on their way.
    assert.ok(peakAckPending <= 2 * concurrency, `num_ack_pending peaked at ${peakAckPending}`);
    assert.ok(peakAckPending >= 2, `num_ack_pending peaked at ${peakAckPending}`);
    assert.equal(peakRunning, concurrency);
    assert.equal(handled.size, 20);
    assert.ok(
      [...handled.values()].every((n) => n === 1),
      JSON.stringify([...handled]),
    );
    assert.deepEqual(settlements(handle), { delivered: 20, acked: 20, naked: 0, termed: 0 });
    // Acks are not confirmed: the last one may still be on its way when the counter says 20.
    await eventually(async () => (await streamInfo(bus, STREAM)).messages === 0, { message: 'stream empty' });
  });

  test('a header name nats.js cannot parse loses no other header of the delivery', async () => {
    await applyTopology(bus, defineTopology());
    await rawPublish(nats, SUBJECT, ['Nats-Msg-Id: odd-1', 'Bad Key: v', 'traceparent: t'], 'odd');
    const seen: Array<Record<string, string>> = [];
    await start({
      queue: 'regular',
      concurrency: 1,
      handler: async (d) => {
        seen.push(d.headers);
        return { kind: 'ack' };
      },
    });
    await eventually(() => seen.length === 1, { timeoutMs: 5000 });
    assert.deepEqual(seen[0], { 'Nats-Msg-Id': 'odd-1', 'Bad Key': 'v', traceparent: 't' });
  });

  test('a busy consumer refills its slots in batches, not with a pull per freed slot', async () => {
    await applyTopology(bus, defineTopology());
    await publishMany(600);
    const concurrency = 40;
    const handle = await start({
      queue: 'regular',
      concurrency,
      handler: async () => {
        await sleep(Math.random() * 4);
        return { kind: 'ack' };
      },
    });
    while (handle.stats().acked < 600) await sleep(20);
    const { delivered, pulls } = handle.stats();
    assert.equal(delivered, 600);
    // A pull waits for a quarter of the slots (10) while another is open.
    assert.ok(delivered / pulls >= 8, `${(delivered / pulls).toFixed(1)} messages a pull (${pulls} pulls)`);
  });

  test('a handler running longer than ack_wait is not redelivered thanks to heartbeats', async () => {
    await applyTopology(bus, defineTopology({ ackWaitMs: { regular: 1_000 } }));
    await publishMany(1);
    const deliveries: Delivery[] = [];
    const handle = await start({
      queue: 'regular',
      concurrency: 2,
      handler: async (d) => {
        deliveries.push(d);
        await sleep(2_800);
        return { kind: 'ack' };
      },
    });
    await eventually(() => handle.stats().acked === 1, { message: 'ack', timeoutMs: 6_000 });
    await sleep(300);
    assert.equal(deliveries.length, 1);
    assert.equal(deliveries[0]?.deliveryCount, 1);
    assert.equal(deliveries[0]?.redelivered, false);
    assert.equal((await consumerInfo(bus, STREAM, DURABLE)).numRedelivered, 0);
  });

  test('one heartbeat owner: N messages in flight, each with a task beat riding on it, are N beats on one timer', async () => {
    await applyTopology(bus, defineTopology());
    const inFlight = 12;
    await publishMany(inFlight);
    const heartbeats = new Heartbeats();
    const intervals = countIntervals();
    const riderRuns = new Map<number, number>();
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let started = 0;
    try {
      await start({
        queue: 'regular',
        concurrency: inFlight,
        heartbeats,
        heartbeatMs: 1_000,
        handler: async (delivery) => {
          assert.ok(delivery.heartbeat, 'a delivery from the consumer has its own heartbeat');
          // what a running task does: its claim's beat rides on the message's, at its shorter period
          const stop = delivery.heartbeat.add(60, () =>
            riderRuns.set(delivery.streamSeq, (riderRuns.get(delivery.streamSeq) ?? 0) + 1),
          );
          started += 1;
          await released;
          stop();
          return { kind: 'ack' };
        },
      });
      await eventually(async () => started === inFlight, { timeoutMs: 5_000, message: 'all messages in flight' });
      assert.equal(heartbeats.size, inFlight, 'one beat per message in flight, its task beat included');
      await sleep(300);
      assert.equal(riderRuns.size, inFlight, 'every task beat ran');
      for (const runs of riderRuns.values())
        assert.ok(runs >= 2, `a task beat every 60 ms ran ${runs} times in 300 ms`);
      assert.equal(intervals.live(), 1, 'one timer for every beat');
    } finally {
      release();
      intervals.restore();
    }
    await eventually(async () => heartbeats.size === 0, { timeoutMs: 5_000, message: 'beats end with their messages' });
    assert.equal(heartbeats.ticking, false, 'the timer stops with the last beat');
  });

  test('nak with a delay is redelivered after about the delay; a throwing handler naks and reports', async () => {
    await applyTopology(bus, defineTopology());
    await publish(bus, SUBJECT, 'nak-me', { msgId: 'a' });
    await publish(bus, SUBJECT, 'throw-me', { msgId: 'b' });
    const seen: Array<{ body: string; count: number; at: number }> = [];
    const errors: unknown[] = [];
    const handle = await start({
      queue: 'regular',
      concurrency: 4,
      onError: (err) => errors.push(err),
      handler: async (d) => {
        const body = text(d.data);
        seen.push({ body, count: d.deliveryCount, at: Date.now() });
        if (d.deliveryCount > 1) return { kind: 'ack' };
        if (body === 'throw-me') throw new Error('boom');
        return { kind: 'nak', delayMs: 1_500 };
      },
    });
    await eventually(() => handle.stats().acked === 2, { message: 'both acked', timeoutMs: 6_000 });

    const gap = (body: string): number => {
      const [first, second] = seen.filter((s) => s.body === body);
      assert.ok(first && second, `${body} delivered twice`);
      assert.equal(second.count, 2);
      return second.at - first.at;
    };
    const nakGap = gap('nak-me');
    assert.ok(nakGap >= 1_400 && nakGap < 2_500, `nak(1500) came back after ${nakGap} ms`);
    const throwGap = gap('throw-me');
    assert.ok(throwGap >= 900 && throwGap < 2_000, `thrown handler came back after ${throwGap} ms`);
    assert.equal(errors.length, 1);
    assert.equal((errors[0] as Error).message, 'boom');
    assert.deepEqual(settlements(handle), { delivered: 4, acked: 2, naked: 2, termed: 0 });
  });

  test('term is never redelivered and removes the message from the work queue', async () => {
    await applyTopology(bus, defineTopology({ ackWaitMs: { regular: 1_000 } }));
    await publishMany(2);
    const seen: string[] = [];
    const handle = await start({
      queue: 'regular',
      concurrency: 2,
      handler: async (d) => {
        seen.push(`${text(d.data)}#${d.deliveryCount}`);
        return { kind: 'term' };
      },
    });
    await eventually(() => handle.stats().termed === 2, { message: 'terms' });
    await sleep(1_600); // longer than ack_wait: an ignored term would have come back by now
    assert.deepEqual(seen.sort(), ['m-0#1', 'm-1#1']);
    assert.equal((await streamInfo(bus, STREAM)).messages, 0);
    assert.equal((await consumerInfo(bus, STREAM, DURABLE)).numAckPending, 0);
  });

  test('stop() waits for handlers up to the deadline, then hands the rest back with nak(0)', async () => {
    await applyTopology(bus, defineTopology());
    await publish(bus, SUBJECT, 'quick', { msgId: 'q' });
    await publish(bus, SUBJECT, 'stuck-1', { msgId: 's1' });
    await publish(bus, SUBJECT, 'stuck-2', { msgId: 's2' });
    let release: () => void = () => {};
    const blocked = new Promise<void>((resolve) => {
      release = resolve;
    });
    const first = await start({
      queue: 'regular',
      concurrency: 3,
      handler: async (d) => {
        if (text(d.data) === 'quick') {
          await sleep(200);
          return { kind: 'ack' };
        }
        await blocked;
        return { kind: 'ack' };
      },
    });
    await eventually(() => first.inFlight() === 3, { message: 'three in flight' });
    const stoppedAt = Date.now();
    await first.stop({ deadlineMs: 500 });
    const stopTook = Date.now() - stoppedAt;
    assert.ok(stopTook >= 450 && stopTook < 2_000, `stop took ${stopTook} ms`);
    assert.deepEqual(settlements(first), { delivered: 3, acked: 1, naked: 2, termed: 0 });

    // (2.9 keeps a nak'd message in num_ack_pending until it is redelivered, so the proof of the
    // hand-back is that a new worker gets both at once, not after the 30 s ack_wait)
    const second: string[] = [];
    const next = await start({
      queue: 'regular',
      concurrency: 3,
      handler: async (d) => {
        second.push(`${text(d.data)}#${d.deliveryCount}`);
        return { kind: 'ack' };
      },
    });
    await eventually(() => next.stats().acked === 2, { message: 'handed-back messages', timeoutMs: 3_000 });
    assert.deepEqual(second.sort(), ['stuck-1#2', 'stuck-2#2']);

    // the old handlers finish late: their ack is skipped, nothing changes
    release();
    await sleep(100);
    assert.deepEqual(settlements(first), { delivered: 3, acked: 1, naked: 2, termed: 0 });
    assert.equal(first.inFlight(), 0);
  });
});

/** Intervals started and not cleared meanwhile (the heartbeat timer is unref'd: no active resource). */
function countIntervals(): { live: () => number; restore: () => void } {
  const { setInterval: originalSet, clearInterval: originalClear } = globalThis;
  const live = new Set<unknown>();
  globalThis.setInterval = (...args: Parameters<typeof setInterval>) => {
    const timer = originalSet(...args);
    live.add(timer);
    return timer;
  };
  globalThis.clearInterval = (timer: Parameters<typeof clearInterval>[0]) => {
    live.delete(timer);
    originalClear(timer);
  };
  return {
    live: () => live.size,
    restore: () => {
      globalThis.setInterval = originalSet;
      globalThis.clearInterval = originalClear;
    },
  };
}
