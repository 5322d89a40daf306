import { after, before, test } from 'node:test';
import { randomUUID } from 'node:crypto';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { applyTopology, connectBus, defineTopology, type Bus } from '@jetcel/bus';
import {
  builtinTasks,
  defineExecutor,
  defineTask,
  done,
  ExecutorRegistry,
  handler,
  runExecutorTask,
  silentLogger,
  step,
  TaskRegistry,
  type ExecutorDefinition,
  type JsonObject,
  type Plan,
  type ResourceSnapshot,
} from '@jetcel/core';
import { eventually, queryRows, startNats, type NatsServerHandle } from '@jetcel/testing';
import { Progress } from '../src/execution/progress.ts';
import { scheduleExecution } from '../src/execution/schedule.ts';
import { serviceConfigFromEnv } from '../src/service/config.ts';
import { startWorker, type RunningWorker } from '../src/service/worker.ts';
import { setupDb, type TestDb } from './db-fixture.ts';

// Success and failure handlers that are chains, or another executor, run by a real worker (NATS,
// the outbox relay, PostgreSQL) on the widget fixture.

/** What the `test.mark` calls saw, in the order they ran: their label and the failure they were given. */
const marks: Array<{ label: string; failure: string | null }> = [];
const mark = defineTask({
  name: 'test.mark',
  args: z.object({ label: z.string(), failure: z.object({ message: z.string() }).optional() }),
  retry: { maxAttempts: 1 },
  async run(_ctx, args) {
    marks.push({ label: args.label, failure: args.failure?.message ?? null });
    return done();
  },
});
const fail = defineTask({
  name: 'test.fail',
  args: z.object({ message: z.string() }).loose(),
  retry: { maxAttempts: 1 },
  async run(_ctx, args) {
    throw new Error(args.message);
  },
});
const rename = defineTask({
  name: 'test.rename',
  args: z.object({ name: z.string() }),
  async run(_ctx, args) {
    return done({ fields: { name: args.name } });
  },
});

/** An action on a widget: renames it (run as a handler, nested). */
const widgetRename = defineExecutor<{ name: string }>({
  name: 'widget.rename',
  kind: 'action',
  action: 'Rename',
  resourceType: 'widget',
  tasks: [rename],
  steps: ({ params }) => [step(rename, { name: params.name })],
});

function createWith(
  name: string,
  extra: Pick<ExecutorDefinition<JsonObject>, 'steps'> & Partial<ExecutorDefinition<JsonObject>>,
): ExecutorDefinition<JsonObject> {
  return defineExecutor<JsonObject>({
    name,
    kind: 'create',
    resourceType: 'widget',
    tasks: [mark, fail, runExecutorTask],
    ...extra,
  });
}

const successChain = createWith('widget.success_chain', {
  steps: () => [step(mark, { label: 'main' })],
  onSuccess: () => [step(mark, { label: 's1' }), handler.setOk(), step(mark, { label: 's2' })],
});
const successChainFails = createWith('widget.success_chain_fails', {
  steps: () => [step(mark, { label: 'main' })],
  onSuccess: () => [handler.setOk(), step(fail, { message: 'the success chain broke' }), step(mark, { label: 's3' })],
  onFailure: () => [step(mark, { label: 'f1' }), handler.setErred(), step(mark, { label: 'f2' })],
});
const failureChainFails = createWith('widget.failure_chain_fails', {
  steps: () => [step(fail, { message: 'the main step broke' })],
  onFailure: () => [
    step(mark, { label: 'f1' }),
    step(fail, { message: 'the handler broke' }),
    step(mark, { label: 'f3' }),
  ],
});
const executorHandler = createWith('widget.executor_handler', {
  steps: () => [step(mark, { label: 'main' })],
  onSuccess: () => [handler.setOk(), handler.executor(widgetRename, undefined, { name: 'renamed by the handler' })],
});
const executorOnFailure = (other: string) =>
  createWith('widget.executor_on_failure', {
    steps: () => [step(fail, { message: 'the main step broke' })],
    onFailure: () => [handler.setErred(), handler.executor(widgetRename, other, { name: 'flagged' })],
  });

const registry = new TaskRegistry().register(...builtinTasks, mark, fail, rename);
const executors = new ExecutorRegistry().register(
  widgetRename,
  ...[successChain, successChainFails, failureChainFails, executorHandler].map(
    (executor) => executor as ExecutorDefinition<never>,
  ),
);
const progress = new Progress({ catalog: registry, executors, logger: silentLogger });

let nats: NatsServerHandle;
let bus: Bus;
let env: TestDb;
let worker: RunningWorker;
before(async () => {
  nats = await startNats();
  bus = await connectBus({ servers: nats.url, name: 'handler-chains-test' });
  await applyTopology(bus, defineTopology());
  env = await setupDb({ widgets: true });
  const config = serviceConfigFromEnv({ NATS_URL: nats.url, DATABASE_URL: env.database.url });
  worker = await startWorker({
    bus,
    db: env.db,
    queue: 'regular',
    concurrency: 4,
    registry,
    executors,
    services: {},
    logger: silentLogger,
    config,
  });
});
after(async () => {
  await worker?.stop(5_000);
  await bus?.close();
  await nats?.[Symbol.asyncDispose]();
  await env?.close();
});

async function widget(
  name: string,
  state: 'CREATION_SCHEDULED' | 'OK' = 'CREATION_SCHEDULED',
): Promise<ResourceSnapshot> {
  return env.db.transaction(async (tx) => {
    const inserted = await tx.resources.insert('widget', { name }, { executionId: null, actor: null });
    if (state === 'CREATION_SCHEDULED') return inserted;
    const ok = await tx.resources.applyPatch(inserted, { transition: 'set_ok' }, { executionId: null, actor: null });
    assert.ok(ok);
    return ok;
  });
}

/** The execution once it has ended. */
async function ended(executionId: string) {
  return eventually(
    async () => {
      const found = await env.db.read((tx) => tx.executions.get(executionId));
      return found && found.status !== 'running' ? found : null;
    },
    { timeoutMs: 20_000, message: `execution ${executionId} ends` },
  );
}

/** Schedules the executor on the widget, waits until its execution has ended, and returns it with its steps. */
async function run(executor: ExecutorDefinition<JsonObject>, resource: ResourceSnapshot) {
  marks.length = 0;
  const executionId = await env.db.transaction(async (tx) => {
    const scheduled = await scheduleExecution(tx, progress, executor, { resource, params: {}, actor: 'alice' });
    assert.equal(scheduled.kind, 'scheduled');
    return scheduled.kind === 'scheduled' ? scheduled.executionId : '';
  });
  const execution = await ended(executionId);
  const steps = await env.db.read((tx) => tx.executions.steps(executionId));
  const order = { main: 0, success: 1, failure: 2 } as const;
  const shape = steps
    .sort((a, b) => order[a.role] - order[b.role] || a.position - b.position)
    .map((row) => `${row.role}:${row.position} ${row.task} ${row.status}`);
  const after = await env.db.read((tx) => tx.resources.get('widget', resource.id));
  return { execution: execution, shape, widget: after, steps };
}

test('a success chain runs in order after the main chain, then the execution succeeds', async () => {
  const { execution, shape, widget: after } = await run(successChain, await widget('chain'));
  assert.equal(execution.status, 'succeeded', execution.errorMessage);
  assert.deepEqual(shape, [
    'main:0 test.mark succeeded',
    'success:0 test.mark succeeded',
    'success:1 jetcel.set_ok succeeded',
    'success:2 test.mark succeeded',
  ]);
  assert.deepEqual(
    marks.map((seen) => seen.label),
    ['main', 's1', 's2'],
  );
  assert.equal(after?.state, 'OK');
});

test('a failure inside the success chain skips its rest and runs the whole failure chain, each call given the failure', async () => {
  const { execution, shape, widget: after } = await run(successChainFails, await widget('breaks'));
  assert.equal(execution.status, 'failed');
  assert.equal(execution.errorMessage, 'the success chain broke');
  assert.deepEqual(shape, [
    'main:0 test.mark succeeded',
    'success:0 jetcel.set_ok succeeded',
    'success:1 test.fail failed',
    'failure:0 test.mark succeeded',
    'failure:1 jetcel.set_erred succeeded',
    'failure:2 test.mark succeeded',
  ]);
  assert.deepEqual(marks, [
    { label: 'main', failure: null },
    { label: 'f1', failure: 'the success chain broke' },
    { label: 'f2', failure: 'the success chain broke' },
  ]);
  assert.equal(after?.state, 'ERRED');
  assert.equal(after?.errorMessage, 'the success chain broke');
});

test('a failure inside the failure chain ends the execution failed, the rest skipped and the first error kept', async () => {
  const { execution, shape, steps } = await run(failureChainFails, await widget('twice'));
  assert.equal(execution.status, 'failed');
  assert.equal(execution.errorMessage, 'the main step broke', 'the first error is the execution error');
  assert.deepEqual(shape, ['main:0 test.fail failed', 'failure:0 test.mark succeeded', 'failure:1 test.fail failed']);
  assert.equal(steps.find((row) => row.role === 'failure' && row.position === 1)?.errorMessage, 'the handler broke');
  assert.deepEqual(marks, [{ label: 'f1', failure: 'the main step broke' }]);
});

test('another executor as the success handler runs nested; the execution ends when it has ended', async () => {
  const { execution, shape, widget: after, steps } = await run(executorHandler, await widget('plain'));
  assert.equal(execution.status, 'succeeded', execution.errorMessage);
  assert.deepEqual(shape, [
    'main:0 test.mark succeeded',
    'success:0 jetcel.set_ok succeeded',
    'success:1 jetcel.run_executor succeeded',
  ]);
  assert.equal(after?.state, 'OK');
  assert.equal(after?.fields.name, 'renamed by the handler');
  const nested = steps.find((row) => row.task === 'jetcel.run_executor');
  const [child] = await queryRows<{ executor: string; status: string; finished_at: Date }>(
    env.database.url,
    'select executor, status, finished_at from jetcel_execution where parent_step_id = $1',
    [nested?.id],
  );
  assert.deepEqual([child?.executor, child?.status], ['widget.rename', 'succeeded']);
  assert.ok(child && execution.finishedAt && child.finished_at <= execution.finishedAt, 'the child ended first');
});

test('another executor in the failure chain, on another resource: it runs, and the execution ends failed after it', async () => {
  const other = await widget('bystander', 'OK');
  const { execution, shape, widget: after } = await run(executorOnFailure(`widget:${other.id}`), await widget('main'));
  assert.equal(execution.status, 'failed');
  assert.equal(execution.errorMessage, 'the main step broke');
  assert.deepEqual(shape, [
    'main:0 test.fail failed',
    'failure:0 jetcel.set_erred succeeded',
    'failure:1 jetcel.run_executor succeeded',
  ]);
  assert.equal(after?.state, 'ERRED');
  const flagged = await env.db.read((tx) => tx.resources.get('widget', other.id));
  assert.deepEqual([flagged?.state, flagged?.fields.name], ['OK', 'flagged']);
});

test('an execution stored with a version-1 plan (one call per handler) still runs to its end', async () => {
  marks.length = 0;
  const legacy = { v: 1, executor: 'widget.legacy', steps: [{ task: 'test.mark', args: { label: 'legacy' } }] };
  const plan = { ...legacy, onSuccess: { task: 'jetcel.set_ok' }, onFailure: { task: 'jetcel.set_erred' } };
  const resource = await widget('legacy');
  const executionId = randomUUID();
  await env.db.transaction(async (tx) => {
    // Written as the previous version wrote it: the stores only ever read it back through readPlan.
    await tx.executions.create({
      id: executionId,
      executor: 'widget.legacy',
      resourceType: 'widget',
      resourceId: resource.id,
      plan: plan as unknown as Plan,
      params: {},
      actor: null,
    });
    const execution = await tx.executions.get(executionId);
    assert.deepEqual(execution?.plan.onSuccess, [{ task: 'jetcel.set_ok' }]);
    const first = execution?.plan.steps[0];
    assert.ok(execution && first);
    await progress.queueNode(tx, execution, 0, first);
  });
  const execution = await ended(executionId);
  assert.equal(execution.status, 'succeeded', execution.errorMessage);
  assert.deepEqual(marks, [{ label: 'legacy', failure: null }]);
  assert.equal((await env.db.read((tx) => tx.resources.get('widget', resource.id)))?.state, 'OK');
});
