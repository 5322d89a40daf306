import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Plan } from '@jetcel/core';
import { queryRows } from '@jetcel/testing';
import { versionReadsBeside, type StepCommit, type StepCommitResult } from '../src/step-commits.ts';
import { toStepRecord } from '../src/records.ts';
import { insertFirstStep, setupDb } from './fixture.ts';

// The one-statement step commit (migration m012): the result, the resource patch and events, and
// the next step claimed for this worker (with no outbox row, m024) or the execution's end, or
// `slow` / `claim_lost` without writing anything.

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

function commit(step: { executionId: string; stepId: string; token: string }): StepCommit {
  return {
    stepId: step.stepId,
    token: step.token,
    result: { ok: true },
    finish: false,
    resource: null,
    events: [],
    next: {
      step: {
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
    },
  };
}

const rows = (executionId: string) =>
  queryRows<{ position: number; status: string; worker: string | null; result: unknown }>(
    env.database.url,
    'select position, status, worker, result from jetcel_step where execution_id = $1 order by position',
    [executionId],
  );

const outboxRows = async () =>
  Number((await queryRows<{ n: string }>(env.database.url, 'select count(*) as n from jetcel_outbox'))[0]?.n);

test('concurrent commits each record their result and insert their next step claimed, with no message for it', async () => {
  const steps = await Promise.all(Array.from({ length: 20 }, () => claimedStep()));
  const inputs = steps.map(commit);
  const outboxBefore = await outboxRows();
  const results = await Promise.all(inputs.map((input) => env.db.commitStep(input)));
  assert.ok(results.every((result) => result.kind === 'committed'));
  for (const [index, step] of steps.entries()) {
    const committed: StepCommitResult | undefined = results[index];
    assert.equal(committed?.kind === 'committed' && committed.step?.status, 'running');
    assert.deepEqual(
      (await rows(step.executionId)).map((row) => [row.position, row.status, row.worker]),
      [
        [0, 'succeeded', 'w'],
        [1, 'running', 'w'],
      ],
    );
  }
  assert.equal(await outboxRows(), outboxBefore, 'a dead worker’s claimed step is the reconciler’s to re-queue');
});

test('the next step a commit answers is the row it inserted, column for column', async () => {
  const input = commit(await claimedStep());
  const committed = await env.db.commitStep(input);
  assert.ok(committed.kind === 'committed' && committed.step);
  const [row] = await queryRows<Record<string, unknown>>(env.database.url, 'select * from jetcel_step where id = $1', [
    input.next?.step.id,
  ]);
  assert.ok(row);
  assert.deepEqual(committed.step, toStepRecord(row));
});

test('a lost claim answers claim_lost and writes nothing, in a shared statement the others still commit', async () => {
  const [lost, kept] = [await claimedStep(), await claimedStep()];
  const [a, b] = await Promise.all([
    env.db.commitStep(commit({ ...lost, token: randomUUID() })),
    env.db.commitStep(commit(kept)),
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
  assert.equal((await env.db.commitStep(commit(step))).kind, 'slow');
  assert.deepEqual(
    (await rows(step.executionId)).map((row) => row.status),
    ['running'],
  );
});

test('an argument from a worker of an earlier version (its next step’s message, its own fallback row) writes and deletes no outbox row', async () => {
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
  const input = commit(step);
  const next = input.next?.step;
  assert.ok(next);
  const message = { id: randomUUID(), subject: 'tasks.regular', payload: '{}', headers: {}, not_before: new Date() };
  const earlier = {
    step: step.stepId,
    token: step.token,
    result: null,
    fallback: fallbackRowId,
    finish: false,
    resource: null,
    events: [],
    next: {
      ...next,
      execution_id: undefined,
      resource_ref: null,
      ignore_errors: false,
      throttled: false,
      member: 0,
      claim_token: next.claim.token,
      worker: 'w',
      ttl_ms: 30_000,
    },
    message,
  };
  const [answer] = await queryRows<{ outcome: { kind: string } }>(
    env.database.url,
    'select jetcel_commit_step($1::jsonb) as outcome',
    [JSON.stringify(earlier)],
  );
  assert.equal(answer?.outcome.kind, 'committed');
  const outbox = await queryRows<{ id: string }>(
    env.database.url,
    'select id from jetcel_outbox where id = any($1::uuid[])',
    [[fallbackRowId, message.id]],
  );
  assert.deepEqual(
    outbox.map((row) => row.id),
    [fallbackRowId],
    'its fallback row is left to be published and skipped; its message is not written',
  );
  assert.deepEqual(
    (await rows(step.executionId)).map((row) => [row.position, row.status]),
    [
      [0, 'succeeded'],
      [1, 'running'],
    ],
  );
});

/** A widget and a running execution on it whose success handler is claimed under `token`. */
async function claimedHandler(parentStepId: string | null = null) {
  const token = randomUUID();
  const stepId = randomUUID();
  const executionId = randomUUID();
  const widget = await env.db.transaction(async (tx) => {
    const created = await tx.resources.insert('widget', { label: 'w' }, { executionId: null, actor: null });
    await tx.executions.create({
      id: executionId,
      executor: 'test',
      resourceType: 'widget',
      resourceId: created.id,
      plan,
      params: {},
      actor: null,
      parentStepId,
    });
    await tx.steps.insert({
      id: stepId,
      executionId,
      role: 'success',
      position: 0,
      task: 'jetcel.set_ok',
      queue: 'regular',
      args: null,
      resourceRef: `widget:${created.id}`,
      before: null,
      ignoreErrors: false,
      notBefore: null,
      claim: { token, worker: 'w', ttlMs: 30_000 },
    });
    return created;
  });
  return { executionId, stepId, token, widget };
}

function finishing(handler: Awaited<ReturnType<typeof claimedHandler>>, version = handler.widget.version): StepCommit {
  const planned = env.db.resourceCommit(
    { ...handler.widget, version },
    { transition: 'set_ok' },
    {
      executionId: handler.executionId,
      actor: null,
    },
  );
  assert.ok(planned);
  return {
    ...commit(handler),
    next: null,
    finish: true,
    resource: planned.resource,
    events: planned.events,
  };
}

const stateOf = async (id: string) =>
  (
    await queryRows<{ state: string; version: number }>(
      env.database.url,
      'select state, version from test_widget where id = $1',
      [id],
    )
  )[0];
const executionStatus = async (id: string) =>
  (await queryRows<{ status: string }>(env.database.url, 'select status from jetcel_execution where id = $1', [id]))[0]
    ?.status;

test('the success handler commits its patch, its event and the end of the execution in one statement', async () => {
  const handlers = await Promise.all(Array.from({ length: 10 }, () => claimedHandler()));
  const inputs = handlers.map((handler) => finishing(handler));
  const results = await Promise.all(inputs.map((input) => env.db.commitStep(input)));
  for (const [index, handler] of handlers.entries()) {
    assert.deepEqual(results[index], { kind: 'committed', step: null, version: handler.widget.version + 1 });
    assert.deepEqual(await stateOf(handler.widget.id), { state: 'OK', version: handler.widget.version + 1 });
    assert.equal(await executionStatus(handler.executionId), 'succeeded');
    assert.deepEqual(
      (await rows(handler.executionId)).map((row) => row.status),
      ['succeeded'],
    );
  }
  const events = await queryRows<{ payload: string; due: boolean }>(
    env.database.url,
    'select payload, not_before <= now() as due from jetcel_outbox where id = any($1::uuid[])',
    [inputs.flatMap((input) => input.events.map((event) => event.id))],
  );
  assert.equal(events.length, 10);
  assert.ok(events.every((event) => event.due && (JSON.parse(event.payload) as { to: string }).to === 'OK'));
});

test('a resource changed since the step read it answers slow and writes nothing', async () => {
  const handler = await claimedHandler();
  const result = await env.db.commitStep(finishing(handler, handler.widget.version - 1));
  assert.equal(result.kind, 'slow');
  assert.deepEqual(await stateOf(handler.widget.id), { state: handler.widget.state, version: handler.widget.version });
  assert.equal(await executionStatus(handler.executionId), 'running');
  assert.deepEqual(
    (await rows(handler.executionId)).map((row) => row.status),
    ['running'],
  );
});

test('ending a nested execution answers slow (its outer step moves on through the stores)', async () => {
  const handler = await claimedHandler(randomUUID());
  assert.equal((await env.db.commitStep(finishing(handler))).kind, 'slow');
  assert.equal(await executionStatus(handler.executionId), 'running');
});

test('without a patch the commit reads the resource version for the next step', async () => {
  const handler = await claimedHandler();
  const planned = env.db.resourceCommit(handler.widget, null, { executionId: handler.executionId, actor: null });
  assert.ok(planned);
  assert.deepEqual(planned.events, []);
  const result = await env.db.commitStep({ ...commit(handler), resource: planned.resource });
  assert.equal(result.kind === 'committed' && result.version, handler.widget.version);
});

test('the batch statement reads that version beside the function, which no longer reads it itself (m020)', async () => {
  const handler = await claimedHandler();
  const planned = env.db.resourceCommit(handler.widget, null, { executionId: handler.executionId, actor: null });
  assert.ok(planned);
  const argument = {
    step: handler.stepId,
    token: handler.token,
    result: null,
    finish: true,
    resource: { ...planned.resource, read_beside: true },
    events: [],
    next: null,
    settled: null,
    pass: null,
  };
  const [row] = await queryRows<{ outcome: { kind: string; version: number | null; at?: string } }>(
    env.database.url,
    'select jetcel_commit_step($1::jsonb) as outcome',
    [JSON.stringify(argument)],
  );
  const { at: _at, ...outcome } = row?.outcome ?? { kind: 'none', version: null };
  assert.deepEqual(outcome, { kind: 'committed', step: null, version: null });
});

test('a version is read beside only for a commit without a patch whose resource no other commit of the batch names', () => {
  const at = (id: string, table = 'test_widget') => ({ table, id, version: 3 });
  const base = { stepId: 's', token: 't', result: null, fallbackRowId: null, next: null, finish: false, events: [] };
  const inputs: StepCommit[] = [
    { ...base, resource: at('a') },
    { ...base, resource: at('b', 'other_table') },
    { ...base, resource: { ...at('c'), set: { state: 'OK' } } },
    { ...base, resource: at('d') },
    { ...base, resource: { ...at('d'), set: { state: 'OK' } } },
    { ...base, resource: at('e') },
    {
      ...base,
      resource: null,
      successors: [{ stepId: 'w', resource: { ...at('e'), set: { state: 'CREATING' } }, events: [] }],
    },
    { ...base, resource: null },
  ];
  const beside = versionReadsBeside(inputs);
  assert.deepEqual([...beside.inputs], [0, 1]);
  assert.deepEqual(beside.tables, ['other_table', 'test_widget']);
});

test('a patch of domain fields or a delete is left to the stores', () => {
  const widget = { type: 'widget', id: randomUUID(), state: 'OK', version: 1 } as Parameters<
    typeof env.db.resourceCommit
  >[0];
  const context = { executionId: null, actor: null };
  assert.equal(env.db.resourceCommit(widget, { fields: { label: 'x' } }, context), null);
  assert.equal(env.db.resourceCommit(widget, { delete: true }, context), null);
});
