import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BackgroundMessage } from '@jetcel/contracts';
import {
  defineExecutor,
  defineTask,
  doneWith,
  scheduleOf,
  silentLogger,
  step,
  builtinTasks,
  TaskRegistry,
  type JsonObject,
  type OnRefused,
  type ResourceSnapshot,
} from '@jetcel/core';
import { queryRows } from '@jetcel/testing';
import { BackgroundRunner } from '../src/background/runner.ts';
import { enqueueBackground } from '../src/background/enqueue.ts';
import { commandContext } from '../src/command/context.ts';
import { ADMIN_READS } from '../src/command/read-policy.ts';
import { Progress } from '../src/execution/progress.ts';
import { scheduleExecution } from '../src/execution/schedule.ts';
import { useTestDb } from './db-fixture.ts';
import { deliveryOf, regularRunner } from './step-fixture.ts';
import { noop } from './widget-executor.ts';

// A task's outcome may start executions (`scheduleOf`): scheduled in the transaction that commits
// the outcome, so both commit or neither does. Real PostgreSQL, no broker: a delivery is the bytes
// of an outbox row.

const env = useTestDb({ widgets: true });

interface Target {
  ref: string;
  heavy?: boolean;
  onRefused?: OnRefused;
}
interface ScheduleArgs {
  targets: Target[];
  /** A new name for the step's (or run's) own widget, written by the same outcome. */
  rename?: string;
  /** Take the step's claim away while it runs (another worker took it over). */
  loseClaim?: boolean;
  /** A background task to queue with the same outcome. */
  enqueue?: string;
}

/** An action on a widget: the executions the outcomes start. */
const widgetPoke = defineExecutor<Record<string, never>>({
  name: 'widget.poke',
  kind: 'action',
  resourceType: 'widget',
  action: 'Poke',
  tasks: [noop],
  steps: () => [step(noop)],
});

const outcomeOf = (args: ScheduleArgs) =>
  doneWith({
    ...(args.rename ? { patch: { fields: { name: args.rename } } } : {}),
    ...(args.enqueue ? { enqueue: [{ task: args.enqueue }] } : {}),
    schedule: args.targets.map((target) =>
      scheduleOf(widgetPoke, target.ref, {}, { heavy: target.heavy ?? false, onRefused: target.onRefused ?? 'fail' }),
    ),
  });

const parseArgs = { parse: (value: unknown) => value as ScheduleArgs };

const schedulingStep = defineTask<ScheduleArgs>({
  name: 'test.schedule_pokes',
  args: parseArgs,
  async run(ctx, args) {
    if (args.loseClaim) {
      await queryRows(env.database.url, 'update jetcel_step set claim_token = gen_random_uuid() where id = $1', [
        ctx.stepId,
      ]);
    }
    return outcomeOf(args);
  },
});
const schedulingBackground = defineTask<ScheduleArgs>({
  name: 'test.background_pokes',
  queue: 'background',
  equality: 'none',
  args: parseArgs,
  run: async (_ctx, args) => outcomeOf(args),
});
const otherBackground = defineTask({ name: 'test.background_other', queue: 'background', run: async () => {} });

/** The executor whose one step returns the outcome under test. */
const widgetSource = defineExecutor<ScheduleArgs & Record<string, never>>({
  name: 'widget.source',
  kind: 'create',
  resourceType: 'widget',
  tasks: [schedulingStep],
  steps: ({ params }) => [step(schedulingStep, params)],
});

const registry = new TaskRegistry().register(
  ...builtinTasks,
  noop,
  schedulingStep,
  schedulingBackground,
  otherBackground,
);
const progress = new Progress({ catalog: registry, executors: { get: () => undefined }, logger: silentLogger });

async function widget(state: 'OK' | 'CREATION_SCHEDULED', name = 'w'): Promise<ResourceSnapshot> {
  const inserted = await env.db.transaction((tx) =>
    tx.resources.insert('widget', { name }, { executionId: null, actor: null }),
  );
  if (state === 'OK')
    await queryRows(env.database.url, "update test_widget set state = 'OK' where id = $1", [inserted.id]);
  return { ...inserted, state };
}
const ref = (resource: ResourceSnapshot): string => `widget:${resource.id}`;

/** Runs widget.source's one step on a fresh widget, through the step runner (its fast path on). */
async function runSourceStep(args: ScheduleArgs): Promise<{ source: ResourceSnapshot; executionId: string }> {
  const source = await widget('CREATION_SCHEDULED', 'source');
  const scheduled = await env.db.transaction((tx) =>
    scheduleExecution(tx, progress, widgetSource, { resource: source, params: args as never, actor: 'tester' }),
  );
  assert.equal(scheduled.kind, 'scheduled');
  const executionId = scheduled.kind === 'scheduled' ? scheduled.executionId : '';
  const [row] = await queryRows<{ payload: string }>(
    env.database.url,
    "select payload from jetcel_outbox where subject = 'tasks.regular' and payload like $1",
    [`%${executionId}%`],
  );
  assert.ok(row);
  const runner = regularRunner(env.db, registry);
  assert.deepEqual(await runner.handle(deliveryOf(row.payload, 'tasks.regular')), { kind: 'ack' });
  return { source, executionId };
}

/** The executions on a widget, with the queues of their steps and of their first step's message. */
async function pokes(resource: ResourceSnapshot) {
  return queryRows<{
    id: string;
    executor: string;
    status: string;
    actor: string;
    queues: string[];
    subjects: string[];
  }>(
    env.database.url,
    `select e.id, e.executor, e.status, e.actor,
       array(select queue from jetcel_step s where s.execution_id = e.id) as queues,
       array(select subject from jetcel_outbox o where o.subject like 'tasks.%' and o.payload like '%' || e.id || '%') as subjects
     from jetcel_execution e where e.resource_id = $1 order by e.created_at`,
    [resource.id],
  );
}

async function widgetRow(resource: ResourceSnapshot) {
  const [row] = await queryRows<{ state: string; name: string; action: string }>(
    env.database.url,
    'select state, name, action from test_widget where id = $1',
    [resource.id],
  );
  return row;
}

async function executionStatus(id: string): Promise<string | undefined> {
  const [row] = await queryRows<{ status: string }>(
    env.database.url,
    'select status from jetcel_execution where id = $1',
    [id],
  );
  return row?.status;
}

test("a step's outcome schedules executions in its commit; heavy per call routes one to tasks.heavy", async () => {
  const heavy = await widget('OK');
  const regular = await widget('OK');
  const { source, executionId } = await runSourceStep({
    // No patch: without its schedule this outcome would take the one-statement fast commit.
    targets: [{ ref: ref(heavy), heavy: true }, { ref: ref(regular) }],
  });
  assert.equal(await executionStatus(executionId), 'succeeded');
  assert.equal((await widgetRow(source))?.state, 'OK');
  const [onHeavy] = await pokes(heavy);
  assert.equal(onHeavy?.executor, 'widget.poke');
  assert.equal(onHeavy?.status, 'running');
  assert.equal(onHeavy?.actor, 'tester', "the scheduling execution's actor");
  assert.deepEqual(onHeavy?.queues, ['heavy']);
  assert.deepEqual(onHeavy?.subjects, ['tasks.heavy']);
  assert.deepEqual(await widgetRow(heavy), { state: 'UPDATE_SCHEDULED', name: 'w', action: 'Poke' });
  const [onRegular] = await pokes(regular);
  assert.deepEqual(onRegular?.queues, ['regular']);
  assert.deepEqual(onRegular?.subjects, ['tasks.regular']);
});

test('a claim lost before the commit: neither the step result nor the execution it scheduled is kept', async () => {
  const target = await widget('OK');
  const { source, executionId } = await runSourceStep({
    targets: [{ ref: ref(target) }],
    rename: 'lost',
    loseClaim: true,
  });
  assert.deepEqual(await pokes(target), []);
  assert.equal((await widgetRow(target))?.state, 'OK');
  assert.equal((await widgetRow(source))?.name, 'source');
  assert.equal(await executionStatus(executionId), 'running', 'the commit was discarded');
});

test("a refused request with onRefused 'fail' fails the step, and nothing of its outcome is written", async () => {
  const free = await widget('OK');
  const busy = await widget('CREATION_SCHEDULED');
  const { source, executionId } = await runSourceStep({
    targets: [{ ref: ref(free) }, { ref: ref(busy) }],
    rename: 'refused',
  });
  assert.equal(await executionStatus(executionId), 'failed');
  const [failed] = await queryRows<{ status: string; error_message: string }>(
    env.database.url,
    "select status, error_message from jetcel_step where execution_id = $1 and role = 'main'",
    [executionId],
  );
  assert.equal(failed?.status, 'failed');
  assert.match(failed?.error_message ?? '', /Scheduling widget\.poke on widget:.* was refused/);
  assert.deepEqual(await pokes(free), [], 'the request before the refused one is rolled back too');
  assert.equal((await widgetRow(free))?.state, 'OK');
  assert.deepEqual(await pokes(busy), []);
  assert.equal((await widgetRow(source))?.name, 'source', "the outcome's own patch is not written");
});

test("with onRefused 'skip' the refused request is dropped and the rest of the outcome commits", async () => {
  const free = await widget('OK');
  const busy = await widget('CREATION_SCHEDULED');
  const { source, executionId } = await runSourceStep({
    targets: [{ ref: ref(busy), onRefused: 'skip' }, { ref: ref(free) }],
    rename: 'skipped',
  });
  assert.equal(await executionStatus(executionId), 'succeeded');
  assert.equal((await widgetRow(source))?.name, 'skipped');
  assert.deepEqual(await pokes(busy), []);
  assert.equal((await pokes(free)).length, 1);
});

/** Queues test.background_pokes on `owner` and runs it through the background runner. */
async function runBackground(owner: ResourceSnapshot, args: ScheduleArgs): Promise<void> {
  const queued = await env.db.transaction((tx) =>
    enqueueBackground(tx, registry, {
      task: schedulingBackground.name,
      resource: ref(owner),
      args: args as unknown as JsonObject,
    }),
  );
  assert.equal(queued.kind, 'queued');
  const runId = queued.kind === 'queued' ? queued.runId : '';
  const [row] = await queryRows<{ payload: string }>(
    env.database.url,
    "select payload from jetcel_outbox where subject = 'tasks.background' and payload like $1",
    [`%${runId}%`],
  );
  assert.ok(row);
  const runner = new BackgroundRunner({ db: env.db, registry, services: {}, logger: silentLogger });
  const message = JSON.parse(row.payload) as BackgroundMessage;
  assert.deepEqual(await runner.handle(message, deliveryOf(row.payload, 'tasks.background')), { kind: 'ack' });
}

const otherRuns = async (): Promise<number> =>
  (
    await queryRows<{ n: number }>(
      env.database.url,
      "select count(*)::int as n from jetcel_background_run where task = 'test.background_other'",
    )
  )[0]?.n ?? -1;

test("a background task's outcome schedules in the run's commit; a refusal ('fail') writes nothing of it", async () => {
  const owner = await widget('OK', 'owner');
  const target = await widget('OK');
  await runBackground(owner, { targets: [{ ref: ref(target), heavy: true }], rename: 'pulled' });
  const [scheduled] = await pokes(target);
  assert.deepEqual(scheduled?.queues, ['heavy']);
  assert.equal((await widgetRow(owner))?.name, 'pulled');

  const free = await widget('OK');
  const busy = await widget('CREATION_SCHEDULED');
  const before = await otherRuns();
  await runBackground(owner, {
    targets: [{ ref: ref(free) }, { ref: ref(busy) }],
    rename: 'refused',
    enqueue: otherBackground.name,
  });
  assert.deepEqual(await pokes(free), []);
  assert.equal((await widgetRow(owner))?.name, 'pulled', "the run's patch is rolled back with it");
  assert.equal(await otherRuns(), before, 'the background task it queued is rolled back too');
  const [left] = await queryRows<{ n: number }>(
    env.database.url,
    "select count(*)::int as n from jetcel_background_run where task = 'test.background_pokes'",
  );
  assert.equal(left?.n, 0, 'the run ended (failed, not retried)');
});

test("a command's ctx.schedule with { heavy: true } routes that execution to tasks.heavy", async () => {
  const target = await widget('OK');
  const other = await widget('OK');
  await env.db.transaction(async (tx) => {
    const ctx = commandContext(
      tx,
      'cmd.widget.poke',
      { actor: 'tester', roles: ['admin'], verified: true },
      progress,
      ADMIN_READS,
      registry,
    );
    await ctx.schedule(widgetPoke, target, {}, { heavy: true });
    await ctx.schedule(widgetPoke, other, {});
  });
  assert.deepEqual((await pokes(target))[0]?.subjects, ['tasks.heavy']);
  assert.deepEqual((await pokes(other))[0]?.subjects, ['tasks.regular']);
});
