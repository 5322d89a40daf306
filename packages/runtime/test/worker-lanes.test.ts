import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { applyTopology, connectBus, defineTopology, type Bus } from '@jetcel/bus';
import { defineTask, silentLogger, TaskRegistry } from '@jetcel/core';
import { eventually, queryRows, startNats, type NatsServerHandle } from '@jetcel/testing';
import { Progress } from '../src/execution/progress.ts';
import { serviceConfigFromEnv } from '../src/service/config.ts';
import { startWorker, type RunningWorker } from '../src/service/worker.ts';
import { chainPlan, scheduleWidgetPlan } from './step-fixture.ts';
import { setupDb } from './db-fixture.ts';

// A worker serves its queue's two lanes in slots of their own: a short execution is not queued
// behind long chains that were requested before it, on the same queue and worker (real NATS and
// PostgreSQL, the worker service as deployed).

let nats: NatsServerHandle;
let bus: Bus;
let env: Awaited<ReturnType<typeof setupDb>>;
before(async () => {
  nats = await startNats();
  bus = await connectBus({ servers: nats.url, name: 'worker-lanes-test' });
  await applyTopology(bus, defineTopology());
  env = await setupDb({ widgets: true });
});
after(async () => {
  await env?.close();
  await bus?.close();
  await nats?.[Symbol.asyncDispose]();
});

let longRunning = 0;
let longPeak = 0;
const slow = defineTask({
  name: 'test.slow',
  async run() {
    longRunning += 1;
    longPeak = Math.max(longPeak, longRunning);
    await new Promise((resolve) => setTimeout(resolve, 40));
    longRunning -= 1;
  },
});
const quick = defineTask({ name: 'test.quick', async run() {} });
const registry = new TaskRegistry().register(slow, quick);
const progress = new Progress({ catalog: registry, executors: { get: () => undefined }, logger: silentLogger });

async function statuses(ids: string[]): Promise<string[]> {
  const rows = await queryRows<{ id: string; status: string }>(
    env.database.url,
    'select id, status from jetcel_execution where id = any($1)',
    [ids],
  );
  return ids.map((id) => rows.find((row) => row.id === id)?.status ?? 'missing');
}

test('a one-step execution runs before the long chains queued ahead of it, and the long lane keeps to its slots', async () => {
  const config = serviceConfigFromEnv({ NATS_URL: nats.url, DATABASE_URL: env.database.url, JETCEL_SWEEP_MS: '100' });
  let worker: RunningWorker | undefined;
  try {
    worker = await startWorker({
      bus,
      db: env.db,
      queue: 'regular',
      concurrency: 2,
      longLaneSlots: 1,
      registry,
      services: {},
      logger: silentLogger,
      config,
    });
    // Six chains of twelve 40 ms steps (each ≥ 0.5 s): one long slot needs ≥ 3 s for them all.
    const chains: string[] = [];
    for (let index = 0; index < 6; index++)
      chains.push((await scheduleWidgetPlan(env, progress, chainPlan(12, slow.name))).executionId);
    await eventually(async () => longRunning > 0, { timeoutMs: 10_000, message: 'the first chain runs' });
    const short = (await scheduleWidgetPlan(env, progress, chainPlan(1, quick.name))).executionId;
    await eventually(async () => (await statuses([short]))[0] === 'succeeded', {
      timeoutMs: 30_000,
      message: 'the short execution succeeds',
    });
    const unfinished = (await statuses(chains)).filter((status) => status !== 'succeeded').length;
    // One FIFO lane with two slots would run it after the fifth chain started (at most 2 unfinished).
    assert.ok(unfinished >= 4, `it did not wait for the chains ahead of it: ${unfinished} of 6 still running`);
    await eventually(async () => (await statuses(chains)).every((status) => status === 'succeeded'), {
      timeoutMs: 60_000,
      message: 'the chains finish',
    });
    assert.equal(longPeak, 1, 'never more long steps at once than the long lane’s one slot');
  } finally {
    await worker?.stop(5_000);
  }
});
