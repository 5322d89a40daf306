import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ClaimLostError } from '../src/errors.ts';
import { insertFirstStep, oneStepPlan, setupDb } from './fixture.ts';

let env: Awaited<ReturnType<typeof setupDb>>;
before(async () => {
  env = await setupDb();
});
after(async () => {
  await env.close();
});

const plan = oneStepPlan;

async function newStep(): Promise<string> {
  return (await insertFirstStep(env.db, plan)).stepId;
}

const claim = (stepId: string, token: string, ttlMs = 30_000) =>
  env.db.transaction((tx) => tx.steps.claim(stepId, { token, worker: 'w', ttlMs }));

test('a second delivery of a committed step commits nothing', async () => {
  const stepId = await newStep();
  const first = await claim(stepId, randomUUID());
  assert.equal(first.kind, 'claimed');
  const token = first.kind === 'claimed' ? first.step.claimToken! : '';
  await env.db.transaction((tx) => tx.steps.complete(stepId, token, { status: 'succeeded', result: { n: 1 } }));
  const second = await claim(stepId, randomUUID());
  assert.deepEqual(second, { kind: 'finished', status: 'succeeded' });
  const step = await env.db.transaction((tx) => tx.steps.get(stepId));
  assert.deepEqual(step?.result, { n: 1 });
});

test('a second delivery during a live claim is skipped', async () => {
  const stepId = await newStep();
  const first = await claim(stepId, randomUUID());
  assert.equal(first.kind, 'claimed');
  const second = await claim(stepId, randomUUID());
  assert.equal(second.kind, 'live_claim');
});

test('an expired claim is taken over and the stale holder cannot commit', async () => {
  const stepId = await newStep();
  const staleToken = randomUUID();
  assert.equal((await claim(stepId, staleToken, 200)).kind, 'claimed');
  await new Promise((resolve) => setTimeout(resolve, 350));
  const freshToken = randomUUID();
  const takeover = await claim(stepId, freshToken);
  assert.equal(takeover.kind, 'claimed');
  assert.equal(takeover.kind === 'claimed' && takeover.takeover, true);
  await assert.rejects(
    env.db.transaction((tx) => tx.steps.complete(stepId, staleToken, { status: 'succeeded' })),
    ClaimLostError,
  );
  assert.equal((await env.db.transaction((tx) => tx.steps.extend(stepId, staleToken, 1000))).held, false);
  await env.db.transaction((tx) => tx.steps.complete(stepId, freshToken, { status: 'succeeded' }));
  assert.equal((await env.db.transaction((tx) => tx.steps.get(stepId)))?.status, 'succeeded');
});

test('concurrent claims of one queued step: exactly one wins', async () => {
  const stepId = await newStep();
  const results = await Promise.all(Array.from({ length: 8 }, () => claim(stepId, randomUUID())));
  assert.equal(results.filter((result) => result.kind === 'claimed').length, 1);
  assert.equal(results.filter((result) => result.kind === 'live_claim').length, 7);
});

test('the one-statement claim on the relaxed pool: exactly one of eight wins, and it returns the step and its execution', async () => {
  const stepId = await newStep();
  const results = await Promise.all(
    Array.from({ length: 8 }, () => env.db.claimStep(stepId, { token: randomUUID(), worker: 'w', ttlMs: 30_000 })),
  );
  const won = results.filter((result) => result.kind === 'claimed');
  assert.equal(won.length, 1);
  assert.equal(results.filter((result) => result.kind === 'live_claim').length, 7);
  const [claimed] = won;
  assert.ok(claimed?.kind === 'claimed');
  assert.equal(claimed.step.id, stepId);
  assert.equal(claimed.step.status, 'running');
  assert.ok(claimed.step.claimedUntil instanceof Date && claimed.step.claimedUntil.getTime() > Date.now());
  assert.equal(claimed.execution.status, 'running');
  assert.deepEqual(claimed.execution.plan, plan);
  const stored = await env.db.transaction((tx) => tx.steps.get(stepId));
  assert.equal(stored?.claimToken, claimed.step.claimToken);
});

test('a claim with enough skew takes a step before its not_before (a throttle hand-over)', async () => {
  const stepId = await newStep();
  const token = randomUUID();
  assert.equal((await claim(stepId, token)).kind, 'claimed');
  await env.db.transaction((tx) =>
    tx.steps.requeue(stepId, token, { notBefore: new Date(Date.now() + 60_000), attempt: false, poll: false }),
  );
  const input = { token: randomUUID(), worker: 'w', ttlMs: 30_000 };
  assert.equal((await env.db.claimStep(stepId, input)).kind, 'not_due');
  assert.equal((await env.db.claimStep(stepId, { ...input, skewMs: 120_000 })).kind, 'claimed');
});

test('a requeued step is not due before its not_before', async () => {
  const stepId = await newStep();
  const token = randomUUID();
  assert.equal((await claim(stepId, token)).kind, 'claimed');
  await env.db.transaction((tx) =>
    tx.steps.requeue(stepId, token, { notBefore: new Date(Date.now() + 60_000), attempt: false, poll: true }),
  );
  const early = await claim(stepId, randomUUID());
  assert.equal(early.kind, 'not_due');
  const step = await env.db.transaction((tx) => tx.steps.get(stepId));
  assert.equal(step?.polls, 1);
  assert.equal(step?.attempts, 1);
});

test('the reconciler re-queues a step whose holder died, and the dead holder cannot commit', async () => {
  const stepId = await newStep();
  const deadToken = randomUUID();
  assert.equal((await claim(stepId, deadToken, 100)).kind, 'claimed');
  await new Promise((resolve) => setTimeout(resolve, 250));
  const requeued = await env.db.transaction((tx) => tx.steps.requeueExpiredClaims(50, 10));
  assert.ok(requeued.some((step) => step.id === stepId));
  await assert.rejects(
    env.db.transaction((tx) => tx.steps.complete(stepId, deadToken, { status: 'succeeded' })),
    ClaimLostError,
  );
  assert.equal((await claim(stepId, randomUUID())).kind, 'claimed');
});

test('an unknown step id is reported as such', async () => {
  assert.deepEqual(await claim(randomUUID(), randomUUID()), { kind: 'unknown_step' });
});
