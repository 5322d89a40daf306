import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  builtinTasks,
  defineExecutor,
  silentLogger,
  step,
  TaskRegistry,
  type JetcelError,
  type ResourceSnapshot,
} from '@jetcel/core';
import type { Tx } from '@jetcel/db';
import { queryRows } from '@jetcel/testing';
import { commandContext } from '../src/command/context.ts';
import { ADMIN_READS } from '../src/command/read-policy.ts';
import { Progress } from '../src/execution/progress.ts';
import { scheduleExecutions, type ScheduleResult } from '../src/execution/schedule.ts';
import { useTestDb } from './db-fixture.ts';
import { deliveryOf, regularRunner } from './step-fixture.ts';
import { noop } from './widget-executor.ts';

// Many executions of one executor in one transaction (`scheduleExecutions`): the plain ones go in
// with their first steps in one statement, the others one by one. Real PostgreSQL, no broker: a
// delivery is the bytes of an outbox row, handed to the step runner.

const env = useTestDb({ widgets: true });
const registry = new TaskRegistry().register(...builtinTasks, noop);
const progress = new Progress({ catalog: registry, executors: { get: () => undefined }, logger: silentLogger });

/** A create whose plan starts with a group of two when `fanOut` (a schedule of its own), else one step. */
const widgetMake = defineExecutor<{ fanOut: boolean }>({
  name: 'widget.make',
  kind: 'create',
  resourceType: 'widget',
  tasks: [noop],
  steps: ({ params }) => (params.fanOut ? [{ group: [step(noop), step(noop)], policy: 'wait_all' }] : [step(noop)]),
  // Only a verified caller's widget named 'forbidden' is refused.
  authorize: (_identity, _action, resource) => resource.fields.name !== 'forbidden',
});

/** An action: its transition is a resource patch, so each of its schedules goes one by one. */
const widgetTouch = defineExecutor<Record<string, never>>({
  name: 'widget.touch',
  kind: 'action',
  action: 'Touch',
  resourceType: 'widget',
  tasks: [noop],
  steps: () => [step(noop)],
});

const context = { executionId: null, actor: null };

async function widgets(names: string[], state: 'CREATION_SCHEDULED' | 'OK' | 'UPDATE_SCHEDULED') {
  const inserted = await env.db.transaction((tx) =>
    tx.resources.insertMany(
      'widget',
      names.map((name) => ({ name })),
      context,
    ),
  );
  if (state === 'CREATION_SCHEDULED') return inserted;
  await queryRows(env.database.url, 'update test_widget set state = $1 where id = any($2)', [
    state,
    inserted.map((widget) => widget.id),
  ]);
  return inserted.map((widget): ResourceSnapshot => ({ ...widget, state }));
}

const executionIds = (results: ScheduleResult[]): string[] =>
  results.flatMap((result) => (result.kind === 'scheduled' ? [result.executionId] : []));

/** Hands every task message of these executions to the step runner, as the broker would, until none is new. */
async function runToEnd(ids: string[]): Promise<void> {
  const handled = new Set<string>();
  for (;;) {
    const rows = await queryRows<{ id: string; subject: string; payload: string }>(
      env.database.url,
      "select id, subject, payload from jetcel_outbox where subject like 'tasks.%' order by created_at, id",
    );
    const fresh = rows.filter((row) => !handled.has(row.id) && ids.some((id) => row.payload.includes(id)));
    if (fresh.length === 0) return;
    for (const row of fresh) {
      handled.add(row.id);
      await regularRunner(env.db, registry).handle(deliveryOf(row.payload, row.subject));
    }
  }
}

async function statuses(ids: string[]): Promise<Record<string, string>> {
  const rows = await queryRows<{ id: string; status: string }>(
    env.database.url,
    'select id, status from jetcel_execution where id = any($1)',
    [ids],
  );
  return Object.fromEntries(rows.map((row) => [row.id, row.status]));
}

async function states(resources: ResourceSnapshot[]): Promise<string[]> {
  const rows = await queryRows<{ id: string; state: string }>(
    env.database.url,
    'select id, state from test_widget where id = any($1)',
    [resources.map((resource) => resource.id)],
  );
  const byId = new Map(rows.map((row) => [row.id, row.state]));
  return resources.map((resource) => byId.get(resource.id) ?? 'gone');
}

/** How many executions, steps and outbox rows there are. */
async function frameworkRows(): Promise<number[]> {
  const [row] = await queryRows<{ executions: number; steps: number; outbox: number }>(
    env.database.url,
    `select (select count(*)::int from jetcel_execution) as executions, (select count(*)::int from jetcel_step) as steps,
       (select count(*)::int from jetcel_outbox) as outbox`,
  );
  return [row?.executions ?? -1, row?.steps ?? -1, row?.outbox ?? -1];
}

test('plain executions go in with their first steps in one insert, a group first one by itself; all run to their end', async () => {
  const made = await widgets(['a', 'b', 'c', 'd'], 'CREATION_SCHEDULED');
  const fanOut = [false, true, false, false];
  const inserts: number[] = [];
  const results = await env.db.transaction((tx) => {
    // Watches the bulk insert, read back or not (the database still does the work).
    const createMany = tx.executions.createManyWithSteps.bind(tx.executions);
    tx.executions.createManyWithSteps = (pairs) => {
      inserts.push(pairs.length);
      return createMany(pairs);
    };
    const insertMany = tx.executions.insertManyWithSteps.bind(tx.executions);
    tx.executions.insertManyWithSteps = (pairs) => {
      inserts.push(pairs.length);
      return insertMany(pairs);
    };
    return scheduleExecutions(
      tx,
      progress,
      widgetMake,
      made.map((resource, i) => ({ resource, params: { fanOut: fanOut[i] ?? false }, actor: 'tester' })),
    );
  });
  assert.deepEqual(inserts, [3], 'the three one-step plans in one statement; the group one on its own');
  assert.deepEqual(
    results.map((result) => [result.kind, result.resource.id]),
    made.map((resource) => ['scheduled', resource.id]),
    'one result per input, in input order',
  );
  const ids = executionIds(results);
  const [groupSteps] = await queryRows<{ n: number }>(
    env.database.url,
    "select count(*)::int as n from jetcel_step where execution_id = $1 and role = 'main'",
    [ids[1]],
  );
  assert.equal(groupSteps?.n, 2, 'the group was queued whole');
  const [actors] = await queryRows<{ actors: string[] }>(
    env.database.url,
    'select array_agg(distinct actor) as actors from jetcel_execution where id = any($1)',
    [ids],
  );
  assert.deepEqual(actors?.actors, ['tester']);
  await runToEnd(ids);
  assert.deepEqual(Object.values(await statuses(ids)), ['succeeded', 'succeeded', 'succeeded', 'succeeded']);
  assert.deepEqual(await states(made), ['OK', 'OK', 'OK', 'OK']);
});

test('a noop answers noop in its place; a transition goes one by one; the rest still run to their end', async () => {
  const [first, busy, last] = [
    ...(await widgets(['t1'], 'OK')),
    ...(await widgets(['t2'], 'UPDATE_SCHEDULED')),
    ...(await widgets(['t3'], 'OK')),
  ];
  assert.ok(first && busy && last);
  const results = await env.db.transaction((tx) =>
    scheduleExecutions(
      tx,
      progress,
      widgetTouch,
      [first, busy, last].map((resource) => ({ resource, params: {}, actor: null })),
    ),
  );
  assert.deepEqual(
    results.map((result) => [result.kind, result.resource.id]),
    [
      ['scheduled', first.id],
      ['noop', busy.id],
      ['scheduled', last.id],
    ],
  );
  const scheduled = results.filter((result) => result.kind === 'scheduled');
  assert.deepEqual(
    scheduled.map((result) => [result.resource.state, result.resource.action]),
    [
      ['UPDATE_SCHEDULED', 'Touch'],
      ['UPDATE_SCHEDULED', 'Touch'],
    ],
    "the transition's snapshot, as scheduleExecution answers",
  );
  const ids = executionIds(results);
  await runToEnd(ids);
  assert.deepEqual(Object.values(await statuses(ids)), ['succeeded', 'succeeded']);
  assert.deepEqual(await states([first, busy, last]), ['OK', 'UPDATE_SCHEDULED', 'OK']);
});

for (const lean of [false, true])
  test(`a bulk whose ${lean ? 'lean ' : ''}transaction rolls back leaves no execution, step or outbox row`, async () => {
    const made = await widgets(lean ? ['l3', 'l4'] : ['r1', 'r2', 'r3'], 'CREATION_SCHEDULED');
    const before = await frameworkRows();
    let scheduled: ScheduleResult[] = [];
    const work = async (tx: Tx) => {
      scheduled = await scheduleExecutions(
        tx,
        progress,
        widgetMake,
        made.map((resource) => ({ resource, params: { fanOut: false }, actor: null })),
      );
      throw new Error('the command fails after scheduling');
    };
    await assert.rejects(lean ? env.db.leanTransaction(work) : env.db.transaction(work), /fails after scheduling/);
    assert.equal(executionIds(scheduled).length, made.length, 'they were scheduled before the rollback');
    assert.deepEqual(await frameworkRows(), before);
  });

test('in a lean transaction the bulk insert rides with COMMIT: the executions commit and run to their end', async () => {
  const made = await widgets(['l1', 'l2'], 'CREATION_SCHEDULED');
  const results = await env.db.leanTransaction((tx) =>
    scheduleExecutions(
      tx,
      progress,
      widgetMake,
      made.map((resource) => ({ resource, params: { fanOut: false }, actor: 'tester' })),
    ),
  );
  const ids = executionIds(results);
  assert.equal(ids.length, 2);
  await runToEnd(ids);
  assert.deepEqual(Object.values(await statuses(ids)), ['succeeded', 'succeeded']);
  assert.deepEqual(await states(made), ['OK', 'OK']);
});

/** A command's context for bob, a verified caller who is no admin. */
const bobsContext = (tx: Tx) =>
  commandContext(
    tx,
    'cmd.widget.make_many',
    { actor: 'bob', roles: [], verified: true },
    progress,
    ADMIN_READS,
    registry,
  );

test("a command's scheduleMany with one refused item refuses them all before writing anything", async () => {
  const made = await widgets(['allowed-1', 'forbidden', 'allowed-2'], 'CREATION_SCHEDULED');
  const before = await frameworkRows();
  await env.db.transaction(async (tx) => {
    const ctx = bobsContext(tx);
    // Caught here, so the transaction commits: whatever the call wrote before refusing would be kept.
    await assert.rejects(
      ctx.scheduleMany(
        widgetMake,
        made.map((resource) => ({ resource, params: { fanOut: false } })),
      ),
      (error: unknown) => (error as JetcelError).code === 'FORBIDDEN',
    );
  });
  assert.deepEqual(await frameworkRows(), before);
  const allowed = made.filter((widget) => widget.fields.name !== 'forbidden');
  const results = await env.db.transaction((tx) =>
    bobsContext(tx).scheduleMany(
      widgetMake,
      allowed.map((resource) => ({ resource, params: { fanOut: false } })),
      { heavy: true },
    ),
  );
  const [queues] = await queryRows<{ queues: string[] }>(
    env.database.url,
    'select array_agg(distinct queue) as queues from jetcel_step where execution_id = any($1)',
    [executionIds(results)],
  );
  assert.equal(executionIds(results).length, 2);
  assert.deepEqual(queues?.queues, ['heavy'], '{ heavy: true } routes every one of them');
});
