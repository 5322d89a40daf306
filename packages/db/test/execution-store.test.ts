import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { perTestFile, queryRows } from '@jetcel/testing';
import type { NewExecutionWithStep } from '../src/execution-store.ts';
import { oneStepPlan, setupDb } from './fixture.ts';

const env = perTestFile(setupDb);
const plan = oneStepPlan;

/** A new execution with its first step; `claimed`: the step goes in already running for a worker. */
function pair(options: { id?: string; claimed?: boolean } = {}): NewExecutionWithStep {
  const id = options.id ?? randomUUID();
  return {
    execution: {
      id,
      executor: 'test',
      resourceType: 'widget',
      resourceId: randomUUID(),
      plan,
      params: { n: 1 },
      actor: 'tester',
    },
    step: {
      id: randomUUID(),
      executionId: id,
      role: 'main',
      position: 0,
      task: 'noop',
      queue: 'regular',
      args: { n: 1 },
      resourceRef: null,
      before: null,
      ignoreErrors: false,
      notBefore: null,
      ...(options.claimed ? { claim: { token: randomUUID(), worker: 'w', ttlMs: 30_000 } } : {}),
    },
  };
}

const rowsOf = async (table: 'jetcel_execution' | 'jetcel_step', ids: string[]) =>
  queryRows<{ id: string }>(env().database.url, `select id from ${table} where id = any($1)`, [ids]);

test('createManyWithSteps inserts every execution and its first step, answering them in input order', async () => {
  const pairs = [pair(), pair({ claimed: true }), pair()];
  const created = await env().db.transaction((tx) => tx.executions.createManyWithSteps(pairs));
  assert.deepEqual(
    created.map(({ execution, step }) => [execution.id, step.id, step.executionId]),
    pairs.map(({ execution, step }) => [execution.id, step.id, execution.id]),
  );
  assert.deepEqual(
    created.map(({ step }) => step.status),
    ['queued', 'running', 'queued'],
  );
  for (const { execution, step } of created) {
    assert.deepEqual(await env().db.read((tx) => tx.executions.get(execution.id)), execution);
    assert.deepEqual(await env().db.read((tx) => tx.steps.get(step.id)), step);
  }
  assert.deepEqual(await env().db.transaction((tx) => tx.executions.createManyWithSteps([])), []);
});

test('createManyWithSteps is one statement: a duplicate id refuses it and nothing of it is kept', async () => {
  const existing = pair();
  await env().db.transaction((tx) => tx.executions.createManyWithSteps([existing]));
  const fresh = pair();
  // Outside a transaction: only the statement itself can keep the fresh pair out.
  await assert.rejects(
    env().db.read((tx) => tx.executions.createManyWithSteps([fresh, pair({ id: existing.execution.id })])),
  );
  assert.deepEqual(await rowsOf('jetcel_execution', [fresh.execution.id]), []);
  assert.deepEqual(await rowsOf('jetcel_step', [fresh.step.id]), []);
});

test('createWithStep is the one-pair case', async () => {
  const one = pair();
  const created = await env().db.transaction((tx) => tx.executions.createWithStep(one.execution, one.step));
  assert.equal(created.execution.id, one.execution.id);
  assert.equal(created.step.executionId, one.execution.id);
  assert.equal((await rowsOf('jetcel_step', [one.step.id])).length, 1);
});

test('the transaction’s outbox rows so far ride the execution insert and are handed off once, after COMMIT', async () => {
  const handed: string[] = [];
  const stop = env().db.onCommit((rows) => handed.push(...rows.map((row) => row.subject)), { handoffLeaseMs: 5000 });
  try {
    await env().db.transaction(async (tx) => {
      const widget = await tx.resources.insert('widget', { label: 'rides' }, { executionId: null, actor: null });
      const messageId = tx.outbox.add({ subject: 'tasks.regular', payload: '{}' });
      const created = pair();
      await tx.executions.createWithStep({ ...created.execution, resourceId: widget.id }, created.step);
      // Inside the transaction, before its flush: the insert statement wrote the message.
      assert.ok(await tx.recordGet('jetcel_outbox', messageId), 'the message row is in the table already');
      assert.deepEqual(handed, [], 'nothing is handed off before COMMIT');
    });
  } finally {
    stop();
  }
  assert.equal(handed.length, 2, 'the event and the message, each once');
  assert.ok(handed.includes('tasks.regular'));
  assert.ok(handed.some((subject) => /^events\.widget\.[^.]+\.state_changed$/.test(subject)));
});

test('insertManyWithSteps writes what createManyWithSteps does, its waiters and the outbox rows so far, in one call', async () => {
  const read = [pair(), pair()];
  await env().db.transaction((tx) => tx.executions.createManyWithSteps(read));
  const handed: Array<{ subject: string; leased: boolean }> = [];
  const stop = env().db.onCommit((rows) => handed.push(...rows.map(({ subject, leased }) => ({ subject, leased }))), {
    handoffLeaseMs: 5000,
  });
  const written = [pair(), pair({ claimed: true })];
  const waiting = { ...pair(), waiter: { kind: 'cloud', scope: 'eu' } };
  const now = { id: randomUUID() };
  const delayed = { id: randomUUID(), at: new Date(Date.now() + 60_000) };
  try {
    await env().db.leanTransaction(async (tx) => {
      tx.outbox.add({ id: now.id, subject: 'tasks.regular', payload: '{"n":1}', headers: { 'X-Test': 'yes' } });
      tx.outbox.add({ id: delayed.id, subject: 'tasks.regular', payload: '{}', notBefore: delayed.at });
      await tx.executions.insertManyWithSteps([...written, waiting]);
    });
  } finally {
    stop();
  }
  // Everything but keys and times, which differ between any two rows.
  const columns = (record: object) =>
    Object.fromEntries(
      Object.entries(record).filter(
        ([key, value]) => !(value instanceof Date) && !['id', 'executionId', 'resourceId', 'claimToken'].includes(key),
      ),
    );
  for (const [index, { execution, step }] of [...written, waiting].entries()) {
    const execRow = await env().db.read((tx) => tx.executions.get(execution.id));
    const stepRow = await env().db.read((tx) => tx.steps.get(step.id));
    const model = read[0]!;
    const modelExec = await env().db.read((tx) => tx.executions.get(model.execution.id));
    const modelStep = await env().db.read((tx) => tx.steps.get(model.step.id));
    assert.ok(execRow && stepRow && modelExec && modelStep);
    assert.deepEqual(columns(execRow), columns(modelExec), `execution ${index}`);
    if (index === 1) {
      assert.equal(stepRow.status, 'running');
      assert.equal(stepRow.worker, 'w');
      assert.ok(stepRow.claimedUntil && stepRow.claimedUntil.getTime() > Date.now() + 20_000);
    } else assert.deepEqual(columns(stepRow), columns(modelStep), `step ${index}`);
  }
  const [waiter] = await queryRows<{ step_id: string; kind: string; scope: string }>(
    env().database.url,
    'select step_id, kind, scope from jetcel_throttle_waiter where execution_id = $1',
    [waiting.execution.id],
  );
  assert.deepEqual(waiter, { step_id: waiting.step.id, kind: 'cloud', scope: 'eu' });
  const outbox = await queryRows<{ payload: string; headers: unknown; leased: boolean; later: boolean }>(
    env().database.url,
    `select payload, headers, lease_until > now() as leased, not_before > now() + interval '50 seconds' as later
       from jetcel_outbox where id = any($1::uuid[]) order by payload`,
    [[now.id, delayed.id]],
  );
  assert.deepEqual(outbox, [
    { payload: '{"n":1}', headers: { 'X-Test': 'yes' }, leased: true, later: false },
    { payload: '{}', headers: {}, leased: null, later: true },
  ]);
  assert.deepEqual(handed, [
    { subject: 'tasks.regular', leased: true },
    { subject: 'tasks.regular', leased: false },
  ]);
});

test('insertManyWithSteps is one statement: a duplicate id refuses it and nothing of it is kept', async () => {
  const existing = pair();
  await env().db.transaction((tx) => tx.executions.createManyWithSteps([existing]));
  const fresh = pair();
  await assert.rejects(
    env().db.leanTransaction((tx) => tx.executions.insertManyWithSteps([fresh, pair({ id: existing.execution.id })])),
  );
  assert.deepEqual(await rowsOf('jetcel_execution', [fresh.execution.id]), []);
  assert.deepEqual(await rowsOf('jetcel_step', [fresh.step.id]), []);
});
