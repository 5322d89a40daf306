import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { applyTopology, connectBus, defineTopology, type Bus } from '@jetcel/bus';
import {
  builtinTasks,
  defineCleanupExecutor,
  defineExecutor,
  defineTask,
  done,
  ExecutorRegistry,
  silentLogger,
  step,
  TaskError,
  TaskRegistry,
  type ExecutorDefinition,
} from '@jetcel/core';
import { Db, defineResourceEntity, defineResourceTable, FRAMEWORK_MIGRATIONS, migrateUp } from '@jetcel/db';
import {
  createTestDatabase,
  eventually,
  queryRows,
  startNats,
  type NatsServerHandle,
  type TestDatabase,
} from '@jetcel/testing';
import { Progress } from '../src/execution/progress.ts';
import { scheduleExecution } from '../src/execution/schedule.ts';
import { serviceConfigFromEnv } from '../src/service/config.ts';
import { startWorker, type RunningWorker } from '../src/service/worker.ts';
import { Widget, widgetMigrations } from './db-fixture.ts';

// The cleanup executor kind on the widget fixture: a widget owns gadgets and parts (linked by
// `widget_id`); a gadget depends on parts, so gadgets are deleted first. A real worker (relay,
// NATS, PostgreSQL) runs the cleanup; the related rows are found when its steps run.

const Gadget = defineResourceEntity({
  name: 'Gadget',
  tableName: 'test_gadget',
  resourceType: 'gadget',
  properties: (p) => ({ name: p.string(), widgetId: p.uuid() }),
});
const Part = defineResourceEntity({
  name: 'Part',
  tableName: 'test_part',
  resourceType: 'part',
  properties: (p) => ({ name: p.string(), widgetId: p.uuid() }),
});
const relatedMigrations = {
  name: 'cleanuptest',
  migrations: [
    {
      name: 'm001_gadget_part',
      up: [
        ...defineResourceTable('test_gadget', {
          resourceType: 'gadget',
          extraColumns: ['"name" varchar(255) not null', '"widget_id" uuid not null'],
        }),
        ...defineResourceTable('test_part', {
          resourceType: 'part',
          extraColumns: ['"name" varchar(255) not null', '"widget_id" uuid not null'],
        }),
      ],
      down: ['drop table "test_part"', 'drop table "test_gadget"'],
    },
  ],
};

/** Every related delete, in the order their backend calls started and ended. */
const calls: Array<{ ref: string; at: 'start' | 'end'; t: number }> = [];
/** Deletes of resources with this name fail. */
const BROKEN = 'broken';
const removeTask = defineTask({
  name: 'test.remove',
  retry: { maxAttempts: 1 },
  async run(ctx) {
    const ref = `${ctx.resource?.type}:${ctx.resource?.id}`;
    calls.push({ ref, at: 'start', t: Date.now() });
    await new Promise((resolve) => setTimeout(resolve, 60));
    calls.push({ ref, at: 'end', t: Date.now() });
    if (ctx.resource?.fields.name === BROKEN) throw new TaskError('The backend refused the delete');
    return done();
  },
});
const deleteOf = (resourceType: string): ExecutorDefinition =>
  defineExecutor({
    name: `${resourceType}.delete`,
    kind: 'delete',
    resourceType,
    tasks: [removeTask],
    steps: () => [step(removeTask, undefined, { before: { transition: 'begin_deleting' } })],
  });
const gadgetDelete = deleteOf('gadget');
const partDelete = deleteOf('part');

function widgetCleanup(name: string, options: { forceParts: boolean; timeoutMs?: number }) {
  return defineCleanupExecutor({
    name,
    resourceType: 'widget',
    pollIntervalMs: 200,
    ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
    related: [
      // Declared parts first: the order comes from dependsOn, not from the list.
      {
        resourceType: 'part',
        executor: partDelete,
        where: (widget) => ({ widgetId: widget.id }),
        ...(options.forceParts ? { params: { force: true } } : {}),
      },
      {
        resourceType: 'gadget',
        executor: gadgetDelete,
        where: (widget) => ({ widgetId: widget.id }),
        params: { force: true },
        dependsOn: ['part'],
      },
    ],
  });
}
const forced = widgetCleanup('widget.cleanup', { forceParts: true });
const strict = widgetCleanup('widget.cleanup_strict', { forceParts: false });
const impatient = widgetCleanup('widget.cleanup_impatient', { forceParts: true, timeoutMs: 1500 });

const registry = new TaskRegistry().register(...builtinTasks, removeTask);
const executors = new ExecutorRegistry().register(gadgetDelete, partDelete, forced, strict, impatient);
const progress = new Progress({ catalog: registry, executors, logger: silentLogger });

let nats: NatsServerHandle;
let bus: Bus;
let database: TestDatabase;
let db: Db;
let worker: RunningWorker;
before(async () => {
  nats = await startNats();
  bus = await connectBus({ servers: nats.url, name: 'cleanup-executor-test' });
  await applyTopology(bus, defineTopology());
  database = await createTestDatabase({ prefix: 'cleanup' });
  await migrateUp(database.url, [FRAMEWORK_MIGRATIONS, widgetMigrations, relatedMigrations]);
  db = await Db.connect({ url: database.url, entities: [Widget, Gadget, Part] });
  const config = serviceConfigFromEnv({ NATS_URL: nats.url, DATABASE_URL: database.url, JETCEL_SWEEP_MS: '100' });
  worker = await startWorker({
    bus,
    db,
    queue: 'regular',
    concurrency: 8,
    registry,
    executors,
    services: {},
    logger: silentLogger,
    config,
  });
});
after(async () => {
  await worker?.stop(5_000);
  await db?.close();
  await database?.drop();
  await bus?.close();
  await nats?.[Symbol.asyncDispose]();
});

const context = { executionId: null, actor: null };

/** A widget in OK with gadgets and parts of the given names; answers the ids. */
async function widgetWith(gadgets: string[], parts: string[]) {
  return db.transaction(async (tx) => {
    const widget = await tx.resources.insert('widget', { name: 'owner' }, context);
    await tx.resources.applyPatch(widget, { transition: 'set_ok' }, context);
    const add = async (type: string, name: string) => {
      const row = await tx.resources.insert(type, { name, widgetId: widget.id }, context);
      await tx.resources.applyPatch(row, { transition: 'set_ok' }, context);
      return row.id;
    };
    const gadgetIds = [];
    for (const name of gadgets) gadgetIds.push(await add('gadget', name));
    const partIds = [];
    for (const name of parts) partIds.push(await add('part', name));
    return { widgetId: widget.id, gadgetIds, partIds };
  });
}

/** Schedules a cleanup of the widget; `then` runs in the same transaction, after the plan is built. */
async function cleanup(
  executor: ExecutorDefinition,
  widgetId: string,
  then?: (tx: Parameters<Parameters<Db['transaction']>[0]>[0]) => Promise<void>,
) {
  return db.transaction(async (tx) => {
    const widget = await tx.resources.get('widget', widgetId, { forUpdate: true });
    assert.ok(widget);
    const scheduled = await scheduleExecution(tx, progress, executor, { resource: widget, params: {}, actor: null });
    assert.equal(scheduled.kind, 'scheduled');
    await then?.(tx);
    return scheduled.kind === 'scheduled' ? scheduled.executionId : '';
  });
}

async function finished(executionId: string, timeoutMs = 20_000) {
  let row: { status: string; error_message: string } | undefined;
  await eventually(
    async () => {
      [row] = await queryRows<{ status: string; error_message: string }>(
        database.url,
        'select status, error_message from jetcel_execution where id = $1',
        [executionId],
      );
      return row !== undefined && !['running', 'cancel_requested'].includes(row.status);
    },
    { timeoutMs, message: `execution ${executionId} ends` },
  );
  assert.ok(row);
  return row;
}

const count = async (table: string, widgetId: string) =>
  (await queryRows(database.url, `select 1 from ${table} where widget_id = $1`, [widgetId])).length;
const widgetRow = async (id: string) =>
  (
    await queryRows<{ state: string; error_message: string }>(
      database.url,
      'select state, error_message from test_widget where id = $1',
      [id],
    )
  )[0];

test('a cleanup finds the related rows when it runs, deletes dependents first, forced, then the parent', async () => {
  calls.length = 0;
  const { widgetId, gadgetIds, partIds } = await widgetWith(['g1', BROKEN], ['p1', 'p2']);
  // Added after the plan was built: found because the rows are looked up when the step runs.
  let late = '';
  const executionId = await cleanup(forced, widgetId, async (tx) => {
    late = (await tx.resources.insert('gadget', { name: 'late', widgetId }, context)).id;
    await tx.resources.applyPatch((await tx.resources.get('gadget', late))!, { transition: 'set_ok' }, context);
  });
  const execution = await finished(executionId);
  assert.equal(execution.status, 'succeeded', execution.error_message);
  const gadgetRefs = [...gadgetIds, late].map((id) => `gadget:${id}`);
  const partRefs = partIds.map((id) => `part:${id}`);
  assert.deepEqual(
    new Set(calls.filter((call) => call.at === 'start').map((call) => call.ref)),
    new Set([...gadgetRefs, ...partRefs]),
    'every related resource, the late one included, was deleted by its own executor',
  );
  const lastGadgetEnd = Math.max(...calls.filter((c) => c.at === 'end' && c.ref.startsWith('gadget:')).map((c) => c.t));
  const firstPartStart = Math.min(
    ...calls.filter((c) => c.at === 'start' && c.ref.startsWith('part:')).map((c) => c.t),
  );
  assert.ok(lastGadgetEnd <= firstPartStart, 'gadgets (which depend on parts) were all deleted before any part');
  const children = await queryRows<{ executor: string; status: string; resource_id: string }>(
    database.url,
    `select c.executor, c.status, c.resource_id from jetcel_execution c join jetcel_step s on s.id = c.parent_step_id
     where s.execution_id = $1`,
    [executionId],
  );
  assert.equal(children.length, 5, 'one nested delete per related resource');
  assert.equal(children.find((child) => child.resource_id === gadgetIds[1])?.status, 'failed');
  assert.equal(await count('test_gadget', widgetId), 0, 'forced: even the gadget whose delete failed is gone');
  assert.equal(await count('test_part', widgetId), 0);
  assert.equal(await widgetRow(widgetId), undefined, 'the parent is deleted last');
});

test('a busy related resource is waited for, then deleted: never skipped or orphaned', async () => {
  calls.length = 0;
  const { widgetId, gadgetIds } = await widgetWith(['busy'], ['p']);
  const busy = gadgetIds[0] as string;
  await queryRows(database.url, "update test_gadget set state = 'UPDATING' where id = $1", [busy]);
  const executionId = await cleanup(forced, widgetId);
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  assert.equal(calls.length, 0, 'nothing is deleted while the gadget is busy (parts wait for gadgets)');
  const [waiting] = await queryRows<{ status: string }>(
    database.url,
    'select status from jetcel_execution where id = $1',
    [executionId],
  );
  assert.equal(waiting?.status, 'running');
  const freedAt = Date.now();
  await queryRows(database.url, "update test_gadget set state = 'OK' where id = $1", [busy]);
  const execution = await finished(executionId);
  assert.equal(execution.status, 'succeeded', execution.error_message);
  const deleted = calls.find((call) => call.ref === `gadget:${busy}` && call.at === 'start');
  assert.ok(deleted && deleted.t >= freedAt, 'the busy gadget was deleted once it was free');
  assert.equal(await count('test_gadget', widgetId), 0);
  assert.equal(await widgetRow(widgetId), undefined);
});

test('a delete that fails without force fails the cleanup with a clear message; the parent stays, ERRED', async () => {
  const { widgetId, partIds } = await widgetWith(['g'], [BROKEN]);
  const executionId = await cleanup(strict, widgetId);
  const execution = await finished(executionId);
  assert.equal(execution.status, 'failed');
  assert.match(execution.error_message, new RegExp(`Could not delete part:${partIds[0]} \\(part.delete\\)`));
  assert.match(execution.error_message, /The backend refused the delete/);
  assert.equal(await count('test_gadget', widgetId), 0, 'the gadgets had gone first');
  const widget = await widgetRow(widgetId);
  assert.equal(widget?.state, 'ERRED');
  assert.match(widget?.error_message ?? '', /Could not delete part:/);
});

test('a related resource busy for longer than the timeout fails the cleanup, naming it', async () => {
  const { widgetId, gadgetIds } = await widgetWith(['stuck'], []);
  await queryRows(database.url, "update test_gadget set state = 'CREATING' where id = $1", [gadgetIds[0]]);
  const executionId = await cleanup(impatient, widgetId);
  const execution = await finished(executionId);
  assert.equal(execution.status, 'failed');
  assert.match(
    execution.error_message,
    new RegExp(
      `Cleanup timed out after 2 s waiting for 1 related gadget resource\\(s\\): gadget:${gadgetIds[0]} \\(CREATING\\)`,
    ),
  );
  assert.equal(await count('test_gadget', widgetId), 1, 'the busy gadget was not deleted under its operation');
  assert.equal((await widgetRow(widgetId))?.state, 'ERRED');
});
