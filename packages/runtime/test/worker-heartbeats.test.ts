import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { applyTopology, connectBus, defineTopology, type Bus } from '@jetcel/bus';
import { defineTask, silentLogger, TaskRegistry } from '@jetcel/core';
import { eventually, queryRows, startNats, type NatsServerHandle } from '@jetcel/testing';
import { enqueueBackground } from '../src/background/enqueue.ts';
import { serviceConfigFromEnv } from '../src/service/config.ts';
import { startWorker, type RunningWorker } from '../src/service/worker.ts';
import { setupDb } from './db-fixture.ts';

let nats: NatsServerHandle;
let bus: Bus;
let env: Awaited<ReturnType<typeof setupDb>>;
before(async () => {
  nats = await startNats();
  bus = await connectBus({ servers: nats.url, name: 'worker-heartbeats-test' });
  await applyTopology(bus, defineTopology());
  env = await setupDb();
});
after(async () => {
  await env?.close();
  await bus?.close();
  await nats?.[Symbol.asyncDispose]();
});

/** Timers started and neither cleared nor (for a timeout) fired yet, from now on. */
function liveTimers(): { intervals: () => number; timeouts: () => number; restore: () => void } {
  const original = { ...pick() };
  const intervals = new Set<unknown>();
  const timeouts = new Set<unknown>();
  globalThis.setInterval = (...args: Parameters<typeof setInterval>) => {
    const timer = original.setInterval(...args);
    intervals.add(timer);
    return timer;
  };
  globalThis.clearInterval = (timer: Parameters<typeof clearInterval>[0]) => {
    intervals.delete(timer);
    original.clearInterval(timer);
  };
  globalThis.setTimeout = ((callback: (...values: unknown[]) => void, ms?: number, ...values: unknown[]) => {
    const timer = original.setTimeout(
      (...passed: unknown[]) => {
        timeouts.delete(timer);
        callback(...passed);
      },
      ms,
      ...values,
    );
    timeouts.add(timer);
    return timer;
  }) as typeof setTimeout;
  globalThis.clearTimeout = (timer: Parameters<typeof clearTimeout>[0]) => {
    timeouts.delete(timer);
    original.clearTimeout(timer);
  };
  return {
    intervals: () => intervals.size,
    timeouts: () => timeouts.size,
    restore: () => void Object.assign(globalThis, original),
  };
}
const pick = () => ({ setInterval, clearInterval, setTimeout, clearTimeout });

test('a worker with N tasks in flight runs one heartbeat timer, and every claim is still extended by it', async () => {
  const inFlight = 16;
  let running = 0;
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const hold = defineTask({
    name: 'test.hold',
    queue: 'background',
    equality: 'none',
    async run() {
      running += 1;
      await released;
    },
  });
  const registry = new TaskRegistry().register(hold);
  // A 900 ms claim: heartbeats every 300 ms must keep every claim alive while the tasks hold.
  const config = serviceConfigFromEnv({
    NATS_URL: nats.url,
    DATABASE_URL: env.database.url,
    JETCEL_CLAIM_TTL_MS: '900',
  });
  const enqueue = (count: number) =>
    env.db.transaction(async (tx) => {
      for (let index = 0; index < count; index++) await enqueueBackground(tx, registry, { task: hold.name });
    });
  const timers = liveTimers();
  let worker: RunningWorker | undefined;
  try {
    worker = await startWorker({
      bus,
      db: env.db,
      queue: 'background',
      concurrency: inFlight,
      registry,
      services: {},
      logger: silentLogger,
      config,
    });
    await enqueue(1);
    await eventually(async () => running === 1, { timeoutMs: 10_000, message: 'the first task runs' });
    const withOne = { intervals: timers.intervals(), timeouts: timers.timeouts() };
    await enqueue(inFlight - 1);
    await eventually(async () => running === inFlight, { timeoutMs: 10_000, message: 'all tasks run' });
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    assert.ok(
      timers.intervals() <= withOne.intervals,
      `${inFlight} tasks in flight start no interval of their own: ${withOne.intervals} live with one task, ${timers.intervals()} with ${inFlight}`,
    );
    assert.ok(
      timers.timeouts() - withOne.timeouts < inFlight / 2,
      `no timeout per task: ${withOne.timeouts} pending with one task, ${timers.timeouts()} with ${inFlight}`,
    );
    const claims = await queryRows<{ live: boolean }>(
      env.database.url,
      "select claimed_until > now() as live from jetcel_background_run where status = 'running'",
    );
    assert.equal(claims.length, inFlight);
    assert.ok(
      claims.every((claim) => claim.live),
      'every claim outlived its 900 ms ttl: one beat extends it',
    );
  } finally {
    release();
    timers.restore();
    await worker?.stop(5_000);
  }
  await eventually(
    async () => (await queryRows(env.database.url, 'select 1 from jetcel_background_run')).length === 0,
    { timeoutMs: 10_000, message: 'the runs finish' },
  );
});
