import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eventually } from '../src/index.ts';

test('eventually: returns the first truthy value, after falsy ones and errors', async () => {
  let calls = 0;
  const value = await eventually(
    () => {
      calls += 1;
      if (calls === 1) throw new Error('not ready');
      if (calls < 4) return calls % 2 === 0 ? undefined : false;
      return { calls };
    },
    { intervalMs: 5 },
  );
  assert.deepEqual(value, { calls: 4 });
  assert.equal(calls, 4);
});

test('eventually: accepts async probes and a synchronous truthy value at once', async () => {
  assert.equal(await eventually(async () => 'ok'), 'ok');
  assert.equal(await eventually(() => 7), 7);
});

test('eventually: times out with the message and the last value', async () => {
  const started = Date.now();
  await assert.rejects(
    eventually(() => false, { timeoutMs: 200, intervalMs: 20, message: 'the queue never drained' }),
    (error: unknown) => {
      assert.ok(error instanceof Error);
      assert.match(error.message, /^the queue never drained/);
      assert.match(error.message, /timed out after 200 ms/);
      assert.match(error.message, /last value: false/);
      return true;
    },
  );
  const elapsed = Date.now() - started;
  assert.ok(elapsed >= 195 && elapsed < 1_000, `took ${elapsed} ms`);
});

test('eventually: times out with the last error', async () => {
  let n = 0;
  await assert.rejects(
    eventually(
      () => {
        n += 1;
        throw new Error(`boom ${n}`);
      },
      { timeoutMs: 100, intervalMs: 10, message: 'never worked' },
    ),
    (error: unknown) => {
      assert.ok(error instanceof Error);
      assert.match(error.message, /never worked/);
      assert.match(error.message, new RegExp(`last error: Error: boom ${n}\\b`));
      assert.ok(error.cause instanceof Error);
      return true;
    },
  );
  assert.ok(n > 2);
});

test('eventually: a probe that hangs does not hang eventually', async () => {
  const started = Date.now();
  await assert.rejects(
    eventually(() => new Promise<boolean>(() => {}), { timeoutMs: 150, message: 'hung probe' }),
    /hung probe .*probe still running/,
  );
  assert.ok(Date.now() - started < 1_000);
});

test('eventually: an abort signal stops polling', async () => {
  const controller = new AbortController();
  setTimeout(() => controller.abort(new Error('gave up')), 50);
  await assert.rejects(
    eventually(() => false, { timeoutMs: 5_000, signal: controller.signal }),
    /gave up/,
  );
});
