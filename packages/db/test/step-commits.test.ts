import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Plan } from '@jetcel/core';
import { queryRows } from '@jetcel/testing';
import type { DoneAndClaimNext, DoneAndClaimNextResult } from '../src/step-commits.ts';
import { insertFirstStep, setupDb } from './fixture.ts';

// The one-statement step commit (migration m011): the result, the fallback rows and the next
// step claimed for this worker, or `slow` / `claim_lost` without writing anything.

let env: Awaited<ReturnType<typeof setupDb>>;
before(async () => {
  env = await setupDb();
});
after(async () => {
  await env.close();
});

const plan: Plan = {
  v: 2,
  executor: 'test',
  steps: [{ task: 'noop' }, { task: 'noop' }],
  onSuccess: [{ task: 'jetcel.set_ok' }],
  onFailure: [{ task: 'jetcel.set_erred' }],
};

/** A running execution with its first step claimed under `token`. */
async function claimedStep(): Promise<{ executionId: string; stepId: string; token: string }> {
  const token = randomUUID();
  return { ...(await insertFirstStep(env.db, plan, { token, worker: 'w', ttlMs: 30_000 })), token };
}

function commit(step: { executionId: string; stepId: string; token: string }): DoneAndClaimNext {
  return {
    stepId: step.stepId,
    token: step.token,
    result: { ok: true },
    fallbackRowId: null,
    next: {
      id: randomUUID(),
      executionId: step.executionId,
      role: 'main',
      position: 1,
      task: 'noop',
      queue: 'regular',
      args: { i: 1 },
      resourceRef: null,
      before: null,
      ignoreErrors: false,
      notBefore: null,
      claim: { token: randomUUID(), worker: 'w', ttlMs: 30_000 },
    },
    fallback: {
      id: randomUUID(),
      subject: 'tasks.regular',
      payload: '{}',
      headers: {},
      notBefore: new Date(Date.now() + 30_000),
    },
  };
}

const rows = (executionId: string) =>
  queryRows<{ position: number; status: string; worker: string | null; result: unknown }>(
    env.database.url,
    'select position, status, worker, result from jetcel_step where execution_id = $1 order by position',
    [executionId],
  );

test('concurrent commits each record their result and insert their next step claimed, with a fallback row not yet due', async () => {
  const steps = await Promise.all(Array.from({ length: 20 }, () => claimedStep()));
  const inputs = steps.map(commit);
  const results = await Promise.all(inputs.map((input) => env.db.commitStepDone(input)));
  assert.ok(results.every((result) => result.kind === 'committed'));
  for (const [index, step] of steps.entries()) {
    const committed: DoneAndClaimNextResult | undefined = results[index];
    assert.equal(committed?.kind === 'committed' && committed.step.status, 'running');
    assert.deepEqual(
      (await rows(step.executionId)).map((row) => [row.position, row.status, row.worker]),
      [
        [0, 'succeeded', 'w'],
        [1, 'running', 'w'],
      ],
    );
  }
  const fallbacks = await queryRows<{ due: boolean }>(
    env.database.url,
    'select not_before <= now() as due from jetcel_outbox where id = any($1::uuid[])',
    [inputs.map((input) => input.fallback.id)],
  );
  assert.equal(fallbacks.length, 20);
  assert.ok(fallbacks.every((row) => !row.due));
});

test('a lost claim answers claim_lost and writes nothing, in a shared statement the others still commit', async () => {
  const [lost, kept] = [await claimedStep(), await claimedStep()];
  const [a, b] = await Promise.all([
    env.db.commitStepDone(commit({ ...lost, token: randomUUID() })),
    env.db.commitStepDone(commit(kept)),
  ]);
  assert.equal(a.kind, 'claim_lost');
  assert.equal(b.kind, 'committed');
  assert.deepEqual(
    (await rows(lost.executionId)).map((row) => row.status),
    ['running'],
  );
});

test('an execution that is not simply running (a cancel) answers slow and writes nothing', async () => {
  const step = await claimedStep();
  await env.db.transaction((tx) => tx.executions.requestCancel(step.executionId));
  assert.equal((await env.db.commitStepDone(commit(step))).kind, 'slow');
  assert.deepEqual(
    (await rows(step.executionId)).map((row) => row.status),
    ['running'],
  );
});

test('a commit drops the fallback row of the step it finishes', async () => {
  const step = await claimedStep();
  const fallbackRowId = randomUUID();
  await env.db.transaction(async (tx) => {
    tx.outbox.add({
      id: fallbackRowId,
      subject: 'tasks.regular',
      payload: '{}',
      notBefore: new Date(Date.now() + 30_000),
    });
  });
  assert.equal((await env.db.commitStepDone({ ...commit(step), fallbackRowId })).kind, 'committed');
  const left = await queryRows(env.database.url, 'select 1 from jetcel_outbox where id = $1', [fallbackRowId]);
  assert.equal(left.length, 0);
});
