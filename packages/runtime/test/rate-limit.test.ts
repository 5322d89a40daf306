import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RateLimitedError } from '@jetcel/core';
import { ActorRateLimiter } from '../src/command/rate-limit.ts';

const verified = (actor: string) => ({ actor, roles: [], verified: true });
const unverified = (actor: string) => ({ actor, roles: [], verified: false });

function retryAfter(run: () => void): number {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof RateLimitedError, String(error));
    assert.equal(error.code, 'UNAVAILABLE');
    return (error.details as { retryAfterMs: number }).retryAfterMs;
  }
  assert.fail('not limited');
}

test('an actor gets its burst, then one request per 1/rate seconds, and retryAfterMs says when', () => {
  let now = 0;
  const limiter = new ActorRateLimiter({ perSecond: 10, burst: 3, maxActors: 100 }, () => now);
  for (let i = 0; i < 3; i++) limiter.admit(verified('alice'));
  assert.equal(
    retryAfter(() => limiter.admit(verified('alice'))),
    100,
  );
  limiter.admit(verified('bob')); // another actor has its own bucket
  now = 100;
  limiter.admit(verified('alice'));
  assert.equal(
    retryAfter(() => limiter.admit(verified('alice'))),
    100,
  );
  now = 10_000; // refilled, but never beyond the burst
  for (let i = 0; i < 3; i++) limiter.admit(verified('alice'));
  assert.ok(retryAfter(() => limiter.admit(verified('alice'))) > 0);
});

test('callers without a verified token share one bucket, whatever Actor they claim', () => {
  const limiter = new ActorRateLimiter({ perSecond: 1, burst: 2, maxActors: 100 }, () => 0);
  limiter.admit(unverified('a'));
  limiter.admit(unverified('b'));
  assert.ok(retryAfter(() => limiter.admit(unverified('c'))) > 0, 'a new claimed name is no fresh burst');
  limiter.admit(verified('a')); // a verified actor is not charged for them
  assert.equal(limiter.size, 2);
});

test('the number of buckets is bounded: the least recently used is dropped', () => {
  const limiter = new ActorRateLimiter({ perSecond: 1, burst: 1, maxActors: 3 }, () => 0);
  for (let i = 0; i < 1000; i++) limiter.admit(verified(`actor-${i}`));
  assert.equal(limiter.size, 3);
});

test('perSecond 0 turns the limit off', () => {
  const limiter = new ActorRateLimiter({ perSecond: 0, burst: 1, maxActors: 1 }, () => 0);
  for (let i = 0; i < 100; i++) limiter.admit(verified('alice'));
  assert.equal(limiter.size, 0);
});
