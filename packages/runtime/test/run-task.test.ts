import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defineTask, silentLogger, TransientError, type TaskContext, type TaskDefinition } from '@jetcel/core';
import { RunControl } from '../src/run/run-control.ts';
import { runTask } from '../src/run/run-task.ts';

const context: Omit<TaskContext<unknown>, 'signal' | 'heartbeat' | 'cancelSignal'> = {
  attempt: 1,
  pollCount: 0,
  idempotencyKey: 'test',
  fencingToken: null,
  fencingSlot: null,
  log: silentLogger,
  actor: null,
  executionId: null,
  stepId: null,
  resource: null,
  resources: {
    get: async () => null,
    find: async () => [],
    latestExecution: async () => null,
    types: () => [],
  },
  services: {},
};
const run = (task: TaskDefinition<unknown, unknown>, controller = new RunControl()) =>
  runTask(task, context, { controller, heartbeat: async () => {}, args: {} });
const never = new Promise<never>(() => {});

test('a stopped run ends at once with the stop reason, even when its task ignores its signal', async () => {
  const ignoring = defineTask({
    name: 'test.ignoring',
    async run() {
      await never;
    },
  });
  const controller = new RunControl();
  const running = run(ignoring, controller);
  const reason = new Error('claim lost');
  controller.abort(reason);
  assert.deepEqual(await running, { kind: 'error', error: reason });
});

test('a task with a timeout is stopped by it; a task without one starts no timer', async () => {
  const slow = defineTask({
    name: 'test.slow',
    timeoutMs: 30,
    async run() {
      await never;
    },
  });
  const result = await run(slow);
  assert.equal(result.kind, 'error');
  assert.ok(result.kind === 'error' && result.error instanceof TransientError);
  const original = globalThis.setTimeout;
  let timers = 0;
  globalThis.setTimeout = ((...args: Parameters<typeof setTimeout>) => {
    timers += 1;
    return original(...args);
  }) as typeof setTimeout;
  try {
    const quick = defineTask({ name: 'test.quick', async run() {} });
    assert.deepEqual(await run(quick), { kind: 'outcome', outcome: { kind: 'done' } });
  } finally {
    globalThis.setTimeout = original;
  }
  assert.equal(timers, 0, 'no timer for a task without a timeout');
});

test('a signal the task reads is aborted by a stop, and once the run is over', async () => {
  let seen: AbortSignal | undefined;
  const reading = defineTask({
    name: 'test.reading',
    async run(ctx) {
      seen = ctx.signal;
      await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }));
    },
  });
  const controller = new RunControl();
  const running = run(reading, controller);
  assert.equal(seen?.aborted, false);
  controller.abort(new Error('shutdown'));
  const result = await running;
  assert.ok(result.kind === 'error' && (result.error as Error).message === 'shutdown');
  assert.equal(seen?.aborted, true);
  let kept: AbortSignal | undefined;
  const done = defineTask({
    name: 'test.done',
    async run(ctx) {
      kept = ctx.signal;
    },
  });
  assert.equal((await run(done)).kind, 'outcome');
  assert.equal(kept?.aborted, true, 'work the task left behind is told the run is over');
});

test('a bad argument or a throwing task is the result, never a throw', async () => {
  const failing = defineTask({
    name: 'test.failing',
    async run() {
      throw new Error('boom');
    },
  });
  const result = await run(failing);
  assert.ok(result.kind === 'error' && (result.error as Error).message === 'boom');
  const strict = defineTask<{ n: number }>({
    name: 'test.strict',
    args: {
      parse: () => {
        throw new Error('bad args');
      },
    },
    async run() {},
  });
  const bad = await run(strict);
  assert.ok(bad.kind === 'error' && (bad.error as Error).message === 'bad args');
});

test("a task's cancelSignal is the harness's, made only when the task reads it; without one, never aborted", async () => {
  let made = 0;
  const cancel = new AbortController();
  const lazy = () => {
    made += 1;
    return cancel.signal;
  };
  const reading = defineTask({
    name: 'test.reads_cancel',
    async run(ctx) {
      cancel.abort(new Error('execution cancelled'));
      return { kind: 'done', result: { aborted: ctx.cancelSignal.aborted } };
    },
  });
  const ignoring = defineTask({ name: 'test.ignores_cancel', async run() {} });
  const harness = { controller: new RunControl(), heartbeat: async () => {}, args: {}, cancelSignal: lazy };
  await runTask(ignoring, context, harness);
  assert.equal(made, 0, 'not made for a task that never reads it');
  const result = await runTask(reading, context, { ...harness, controller: new RunControl() });
  assert.deepEqual(result, { kind: 'outcome', outcome: { kind: 'done', result: { aborted: true } } });
  assert.equal(made, 1);
  const seen: AbortSignal[] = [];
  const looking = defineTask({
    name: 'test.looks',
    async run(ctx) {
      seen.push(ctx.cancelSignal);
    },
  });
  await run(looking);
  await run(looking);
  assert.equal(seen.length, 2);
  assert.equal(seen[0], seen[1], 'one shared signal');
  assert.equal(seen[0]?.aborted, false);
});
