import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { RunClaimLostError } from '../src/errors.ts';
import { setupDb } from './fixture.ts';

let env: Awaited<ReturnType<typeof setupDb>>;
before(async () => {
  env = await setupDb();
});
after(async () => {
  await env.close();
});

const newRun = (equalityKey: string | null, notBefore: Date | null = null) => ({
  id: randomUUID(),
  task: 'test.background',
  equalityKey,
  resourceRef: null,
  args: { n: 1 },
  notBefore,
});

test('E2: an equal run is not inserted while one is queued or running; it is again once that one finished', async () => {
  const key = `equal-${randomUUID()}`;
  const first = await env.db.transaction((tx) => tx.backgroundRuns.insert(newRun(key)));
  assert.ok(first);
  assert.equal(await env.db.transaction((tx) => tx.backgroundRuns.insert(newRun(key))), null, 'queued: skipped');
  const token = randomUUID();
  const claim = await env.db.transaction((tx) => tx.backgroundRuns.claim(first.id, { token, ttlMs: 10_000 }));
  assert.equal(claim.kind, 'claimed');
  assert.equal(await env.db.transaction((tx) => tx.backgroundRuns.insert(newRun(key))), null, 'running: skipped');
  assert.ok(await env.db.transaction((tx) => tx.backgroundRuns.insert(newRun(`${key}-other`))), 'another key is not');
  await env.db.transaction((tx) => tx.backgroundRuns.finish(first.id, token));
  assert.ok(await env.db.transaction((tx) => tx.backgroundRuns.insert(newRun(key))), 'finished: inserted again');
});

test('E2: two concurrent inserts of an equal run: exactly one wins', async () => {
  const key = `race-${randomUUID()}`;
  const results = await Promise.all(
    Array.from({ length: 8 }, () => env.db.transaction((tx) => tx.backgroundRuns.insert(newRun(key)))),
  );
  assert.equal(results.filter((run) => run !== null).length, 1);
});

test('runs without equality are never skipped', async () => {
  const runs = await Promise.all(
    Array.from({ length: 3 }, () => env.db.transaction((tx) => tx.backgroundRuns.insert(newRun(null)))),
  );
  assert.ok(runs.every((run) => run !== null));
});

test('claims: a live claim skips, a finished run is missing, a stale holder cannot finish after a takeover', async () => {
  const run = await env.db.transaction((tx) => tx.backgroundRuns.insert(newRun(null)));
  assert.ok(run);
  const first = randomUUID();
  // 1.5 s: long enough that the second claim surely comes while the first holds, on a busy machine too
  const claimed = await env.db.transaction((tx) => tx.backgroundRuns.claim(run.id, { token: first, ttlMs: 1500 }));
  assert.equal(claimed.kind, 'claimed');
  const live = await env.db.transaction((tx) => tx.backgroundRuns.claim(run.id, { token: randomUUID(), ttlMs: 1500 }));
  assert.equal(live.kind, 'live_claim');
  await new Promise((resolve) => setTimeout(resolve, 1600));
  const second = randomUUID();
  const takeover = await env.db.transaction((tx) => tx.backgroundRuns.claim(run.id, { token: second, ttlMs: 10_000 }));
  assert.deepEqual([takeover.kind, takeover.kind === 'claimed' && takeover.takeover], ['claimed', true]);
  await assert.rejects(
    env.db.transaction((tx) => tx.backgroundRuns.finish(run.id, first)),
    RunClaimLostError,
  );
  await env.db.transaction((tx) => tx.backgroundRuns.finish(run.id, second));
  const gone = await env.db.transaction((tx) => tx.backgroundRuns.claim(run.id, { token: randomUUID(), ttlMs: 100 }));
  assert.equal(gone.kind, 'missing');
});

test('retry: requeue counts the attempt and is not due before not_before', async () => {
  const run = await env.db.transaction((tx) => tx.backgroundRuns.insert(newRun(null)));
  assert.ok(run);
  const token = randomUUID();
  await env.db.transaction((tx) => tx.backgroundRuns.claim(run.id, { token, ttlMs: 10_000 }));
  const requeued = await env.db.transaction((tx) =>
    tx.backgroundRuns.requeue(run.id, token, { notBefore: new Date(Date.now() + 60_000) }),
  );
  assert.deepEqual([requeued.status, requeued.attempts, requeued.claimToken], ['queued', 2, null]);
  const early = await env.db.transaction((tx) => tx.backgroundRuns.claim(run.id, { token: randomUUID(), ttlMs: 100 }));
  assert.equal(early.kind, 'not_due');
});

test('reconciler: expired claims and stale queued runs are queued again, due now; live ones are left alone', async () => {
  const [expired, stale, live] = await env.db.transaction(async (tx) => [
    await tx.backgroundRuns.insert(newRun(`expired-${randomUUID()}`)),
    await tx.backgroundRuns.insert(newRun(`stale-${randomUUID()}`, new Date(Date.now() - 60_000))),
    await tx.backgroundRuns.insert(newRun(`live-${randomUUID()}`)),
  ]);
  assert.ok(expired && stale && live);
  await env.db.transaction((tx) => tx.backgroundRuns.claim(expired.id, { token: randomUUID(), ttlMs: 50 }));
  await env.db.transaction((tx) => tx.backgroundRuns.claim(live.id, { token: randomUUID(), ttlMs: 60_000 }));
  await new Promise((resolve) => setTimeout(resolve, 200));
  const requeued = await env.db.transaction((tx) =>
    tx.backgroundRuns.requeueExpired({ graceMs: 100, staleMs: 30_000, limit: 100 }),
  );
  const ids = requeued.map((run) => run.id);
  assert.ok(ids.includes(expired.id) && ids.includes(stale.id));
  assert.ok(!ids.includes(live.id));
  assert.ok(requeued.every((run) => run.status === 'queued' && run.claimToken === null));
});

test('E3: each (schedule, tick) is inserted once, also by concurrent beats', async () => {
  const tick = new Date(Math.floor(Date.now() / 1000) * 1000);
  const schedule = `s-${randomUUID()}`;
  const results = await Promise.all(
    Array.from({ length: 6 }, () => env.db.transaction((tx) => tx.scheduleTicks.insert(schedule, tick))),
  );
  assert.equal(results.filter(Boolean).length, 1);
  assert.equal((await env.db.transaction((tx) => tx.scheduleTicks.latest(schedule)))?.getTime(), tick.getTime());
  assert.equal(await env.db.transaction((tx) => tx.scheduleTicks.latest('never')), null);
});
