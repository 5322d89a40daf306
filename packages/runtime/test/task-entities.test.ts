import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { defineTask, done, NO_RETRY, pollAgain, silentLogger, TaskRegistry, type Plan } from '@jetcel/core';
import { eventually, queryRows } from '@jetcel/testing';
import { Progress } from '../src/execution/progress.ts';
import { taskEntityManager, TaskEntitiesUnavailableError } from '../src/step/entities.ts';
import { StepRunner } from '../src/step/runner.ts';
import { useTestDb, WidgetNote } from './db-fixture.ts';
import { deliveryOf, scheduleWidgetPlan } from './step-fixture.ts';

// A task's own entities through its entity manager, on a real PostgreSQL: the writes are flushed
// in the step's commit transaction, so they commit with the step's result or not at all.

const env = useTestDb({ widgets: true });

/** What each task saw, for the assertions. */
const seen: { refused?: string; unavailable?: string } = {};

const addNote = defineTask({
  name: 'test.note.add',
  retry: NO_RETRY,
  async run(ctx) {
    const em = taskEntityManager(ctx);
    em.create(WidgetNote, { id: randomUUID(), widgetId: ctx.resource?.id ?? '', text: 'created' });
    return done();
  },
});

const editNote = defineTask({
  name: 'test.note.edit',
  retry: NO_RETRY,
  async run(ctx) {
    const em = taskEntityManager(ctx);
    const note = await em.findOneOrFail(WidgetNote, { widgetId: ctx.resource?.id ?? '' });
    // A change to a loaded entity, no persist call: the unit of work finds it at the commit's flush.
    note.text = `${note.text}, edited at poll ${ctx.pollCount}`;
    return ctx.pollCount < 1 ? pollAgain(1) : done();
  },
});

const addThenThrow = defineTask({
  name: 'test.note.throws',
  retry: NO_RETRY,
  async run(ctx) {
    taskEntityManager(ctx).create(WidgetNote, { id: randomUUID(), widgetId: ctx.resource?.id ?? '', text: 'lost' });
    throw new Error('the backend call failed after the write');
  },
});

const addThenLoseClaim = defineTask({
  name: 'test.note.claim_lost',
  async run(ctx) {
    taskEntityManager(ctx).create(WidgetNote, { id: randomUUID(), widgetId: ctx.resource?.id ?? '', text: 'stale' });
    // Another worker took the step over meanwhile: this run's commit will be discarded.
    await queryRows(env.database.url, 'update jetcel_step set claim_token = $2 where id = $1', [
      ctx.stepId,
      randomUUID(),
    ]);
    return done();
  },
});

const duplicateId = randomUUID();
const addDuplicate = defineTask({
  name: 'test.note.duplicate',
  retry: NO_RETRY,
  async run(ctx) {
    taskEntityManager(ctx).create(WidgetNote, { id: duplicateId, widgetId: ctx.resource?.id ?? '', text: 'twice' });
    return done();
  },
});

const touchFramework = defineTask({
  name: 'test.note.framework',
  async run(ctx) {
    try {
      taskEntityManager(ctx).create('Outbox', {});
    } catch (error) {
      seen.refused = (error as { code?: string }).code ?? String(error);
    }
    try {
      taskEntityManager(Object.fromEntries(Object.entries(ctx)) as typeof ctx);
    } catch (error) {
      seen.unavailable = error instanceof TaskEntitiesUnavailableError ? error.code : String(error);
    }
    return done();
  },
});

const noop = defineTask({ name: 'test.noop', run: async () => undefined });
const registry = new TaskRegistry().register(
  noop,
  addNote,
  editNote,
  addThenThrow,
  addThenLoseClaim,
  addDuplicate,
  touchFramework,
);
const progress = new Progress({ catalog: registry, executors: { get: () => undefined }, logger: silentLogger });
// On a queue: a done main step may take the one-statement fast commit, unless its task wrote entities.
const runner = (): StepRunner<unknown> =>
  new StepRunner({ db: env.db, registry, services: {}, logger: silentLogger, worker: 'local', queue: 'regular' });

function plan(...tasks: string[]): Plan {
  return {
    v: 2,
    executor: 'test.notes',
    steps: tasks.map((task) => ({ task })),
    onSuccess: [{ task: 'test.noop' }],
    onFailure: [{ task: 'test.noop' }],
  };
}

/** Runs a plan's steps in this process until nothing is left to run without waiting. */
async function run(...tasks: string[]): Promise<{ executionId: string; widgetId: string }> {
  const scheduled = await scheduleWidgetPlan(env, progress, plan(...tasks));
  assert.deepEqual(await runner().handle(scheduled.delivery), { kind: 'ack' });
  return scheduled;
}

async function notes(widgetId: string): Promise<string[]> {
  const rows = await queryRows<{ text: string }>(
    env.database.url,
    'select text from test_widget_note where widget_id = $1 order by text',
    [widgetId],
  );
  return rows.map((row) => row.text);
}

async function stepStatuses(executionId: string): Promise<string[]> {
  const rows = await queryRows<{ status: string }>(
    env.database.url,
    'select status from jetcel_step where execution_id = $1 order by queued_at, position',
    [executionId],
  );
  return rows.map((row) => row.status);
}

test("a task's entity writes commit with its step (also from a step that would take the fast commit)", async () => {
  const { executionId, widgetId } = await run('test.note.add');
  assert.deepEqual(await notes(widgetId), ['created']);
  assert.deepEqual(await stepStatuses(executionId), ['succeeded', 'succeeded']);
});

test('a change to a loaded entity commits with a poll, and again with the done', async () => {
  const { executionId, widgetId } = await run('test.note.add', 'test.note.edit');
  // The poll's step is queued again for 1 ms later: deliver it as the broker would.
  await eventually(async () => (await stepStatuses(executionId))[1] === 'queued');
  assert.deepEqual(await notes(widgetId), ['created, edited at poll 0'], 'the poll committed its change');
  const [row] = await queryRows<{ payload: string }>(
    env.database.url,
    "select payload from jetcel_outbox where subject = 'tasks.regular' and payload like $1 order by created_at desc limit 1",
    [`%${executionId}%`],
  );
  assert.ok(row);
  await runner().handle(deliveryOf(row.payload));
  assert.deepEqual(await notes(widgetId), ['created, edited at poll 0, edited at poll 1']);
  assert.deepEqual(await stepStatuses(executionId), ['succeeded', 'succeeded', 'succeeded']);
});

test('a task that throws after writing writes nothing', async () => {
  const { executionId, widgetId } = await run('test.note.throws');
  assert.deepEqual(await notes(widgetId), []);
  assert.deepEqual(await stepStatuses(executionId), ['failed', 'succeeded'], 'failed, then the failure handler');
});

test('a discarded commit (the claim was lost) writes nothing', async () => {
  const { executionId, widgetId } = await run('test.note.claim_lost');
  assert.deepEqual(await notes(widgetId), []);
  assert.deepEqual(await stepStatuses(executionId), ['running'], 'left to the holder that took it over');
});

test('a write the database refuses fails the step; the rest of its commit goes on', async () => {
  const first = await run('test.note.duplicate');
  assert.deepEqual(await notes(first.widgetId), ['twice']);
  const second = await run('test.note.duplicate');
  assert.deepEqual(await notes(second.widgetId), [], 'the second insert of the same id was refused');
  assert.deepEqual(await stepStatuses(second.executionId), ['failed', 'succeeded'], 'failed, handler ran');
  const [execution] = await queryRows<{ status: string; error_message: string }>(
    env.database.url,
    'select status, error_message from jetcel_execution where id = $1',
    [second.executionId],
  );
  assert.equal(execution?.status, 'failed');
  assert.match(execution?.error_message ?? '', /duplicate key/);
});

test("jetcel's own entities are refused; a context without a step commit has no entity manager", async () => {
  await run('test.note.framework');
  assert.equal(seen.refused, 'FRAMEWORK_ENTITY');
  assert.equal(seen.unavailable, 'NO_TASK_ENTITIES');
});
