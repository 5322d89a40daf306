import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_RETRY, NO_RETRY, backoffDelay, type RetryPolicy } from '../src/index.ts';

const fixed = (value: number) => (): number => value;

const noJitter: RetryPolicy = { maxAttempts: 10, initialDelayMs: 100, maxDelayMs: 10_000, multiplier: 3, jitter: 0 };

test('C7: the default policy: 3 attempts, 1 s initial, ×2, capped at 60 s, 20 % jitter; NO_RETRY allows one attempt', () => {
  assert.deepEqual(DEFAULT_RETRY, {
    maxAttempts: 3,
    initialDelayMs: 1000,
    maxDelayMs: 60_000,
    multiplier: 2,
    jitter: 0.2,
  });
  assert.deepEqual(NO_RETRY, { ...DEFAULT_RETRY, maxAttempts: 1 });
});

test('C7: backoffDelay grows exponentially with the multiplier (attempt is the 1-based attempt that failed)', () => {
  const delays = [1, 2, 3, 4, 5].map((attempt) => backoffDelay(noJitter, attempt, fixed(0.5)));
  assert.deepEqual(delays, [100, 300, 900, 2700, 8100]);
  const doubling = [1, 2, 3, 4].map((attempt) => backoffDelay({ ...noJitter, multiplier: 2 }, attempt, fixed(0.5)));
  assert.deepEqual(doubling, [100, 200, 400, 800]);
});

test('C7: backoffDelay is capped at maxDelayMs', () => {
  assert.equal(backoffDelay(noJitter, 6, fixed(0)), 10_000); // 100 × 3^5 = 24 300 → 10 000
  assert.equal(backoffDelay(noJitter, 50, fixed(1)), 10_000);
  // Default policy: 1 s × 2^6 = 64 s → 60 s (random 0.5 is the centre of the jitter band).
  assert.equal(backoffDelay(DEFAULT_RETRY, 7, fixed(0.5)), 60_000);
  assert.equal(backoffDelay(DEFAULT_RETRY, 100, fixed(0.5)), 60_000);
});

test('C7: the jitter spreads the delay over ±jitter × base: random 0 → low edge, 0.5 → base, 1 → high edge', () => {
  assert.equal(backoffDelay(DEFAULT_RETRY, 1, fixed(0)), 800);
  assert.equal(backoffDelay(DEFAULT_RETRY, 1, fixed(0.5)), 1000);
  assert.equal(backoffDelay(DEFAULT_RETRY, 1, fixed(1)), 1200);
  assert.equal(backoffDelay(DEFAULT_RETRY, 3, fixed(0)), 3200);
  assert.equal(backoffDelay(DEFAULT_RETRY, 3, fixed(0.5)), 4000);
  assert.equal(backoffDelay(DEFAULT_RETRY, 3, fixed(1)), 4800);
  assert.equal(backoffDelay(DEFAULT_RETRY, 1, fixed(0.25)), 900);
});

test('C7: with the real random source, delays stay inside the jitter band', () => {
  for (let i = 0; i < 200; i += 1) {
    const delay = backoffDelay(DEFAULT_RETRY, 2);
    assert.ok(delay >= 1600 && delay <= 2400, `delay ${delay}`);
    assert.ok(Number.isInteger(delay));
  }
});

test('C7: full jitter never goes below zero; attempt 0 or less counts as the first attempt', () => {
  const full: RetryPolicy = { ...DEFAULT_RETRY, jitter: 1 };
  assert.equal(backoffDelay(full, 1, fixed(0)), 0);
  assert.equal(backoffDelay(full, 1, fixed(1)), 2000);
  assert.equal(backoffDelay(noJitter, 0, fixed(0.5)), 100);
  assert.equal(backoffDelay(noJitter, -3, fixed(0.5)), 100);
});

test('C7: a jittered delay never exceeds maxDelayMs', () => {
  assert.ok(backoffDelay(DEFAULT_RETRY, 10, fixed(1)) <= DEFAULT_RETRY.maxDelayMs);
});
