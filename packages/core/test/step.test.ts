import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import {
  buildPlan,
  checkPlannedTasks,
  defineExecutor,
  defineTask,
  done,
  Task,
  type TaskOptions,
  ExecutorRegistry,
  plannableTasks,
  runExecutorTask,
  setErredTask,
  setOkTask,
  step,
  taskRef,
  TaskRegistry,
  UndeclaredTaskError,
  UnknownPlannedTaskError,
  type ResourceSnapshot,
} from '../src/index.ts';

const createZone = defineTask({
  name: 'dns.create_zone',
  args: z.object({ zone: z.string(), ttl: z.number().int() }),
  async run() {
    return done();
  },
});
const pollZone = defineTask({
  name: 'dns.poll_zone',
  async run() {
    return done();
  },
});
const pollLater = taskRef('dns.poll_later', z.object({ until: z.enum(['ACTIVE', 'GONE']) }));

// The executors of these tests plan without reading their resource.
const zone = { type: 'zone', id: 'z1', state: 'CREATION_SCHEDULED' } as ResourceSnapshot;

test('step names the task by its definition and carries its typed arguments and options', () => {
  assert.deepEqual(step(createZone, { zone: 'example.org', ttl: 60 }, { throttled: true }), {
    task: 'dns.create_zone',
    args: { zone: 'example.org', ttl: 60 },
    throttled: true,
  });
  assert.deepEqual(step(pollZone), { task: 'dns.poll_zone' });
  assert.deepEqual(step(pollLater, { until: 'GONE' }), { task: 'dns.poll_later', args: { until: 'GONE' } });
  assert.deepEqual(step('other.task', { a: 1 }), { task: 'other.task', args: { a: 1 } });
  assert.deepEqual(pollLater.parseArgs({ until: 'ACTIVE' }), { until: 'ACTIVE' });
});

test('type level: a step refuses arguments its task does not take (compiled by pnpm typecheck)', () => {
  // @ts-expect-error ttl must be a number
  step(createZone, { zone: 'example.org', ttl: '60' });
  // @ts-expect-error zone is required
  step(createZone, { ttl: 60 });
  // @ts-expect-error the arguments are required when the parser requires fields
  step(createZone);
  // @ts-expect-error not one of the states
  step(pollLater, { until: 'DONE' });
  assert.ok(true);
});

const zoneCreate = defineExecutor<{ zone: string }>({
  name: 'dns.create',
  kind: 'create',
  resourceType: 'zone',
  tasks: [createZone, pollZone],
  steps: ({ params }) => [step(createZone, { zone: params.zone, ttl: 300 }), step(pollZone)],
});

test('buildPlan refuses a plan naming a task its executor does not declare', () => {
  const plan = buildPlan(zoneCreate, { resource: zone, params: { zone: 'example.org' } });
  assert.deepEqual(
    plan.steps.map((node) => ('task' in node ? node.task : 'group')),
    ['dns.create_zone', 'dns.poll_zone'],
  );
  const typo = defineExecutor<{ zone: string }>({
    ...zoneCreate,
    steps: () => [step(createZone, { zone: 'x', ttl: 1 }), step('dns.poll_zon')],
  });
  assert.throws(
    () => buildPlan(typo, { resource: zone, params: { zone: 'x' } }),
    (error: unknown) => {
      assert.ok(error instanceof UndeclaredTaskError);
      assert.equal(error.code, 'UNDECLARED_PLAN_TASK');
      assert.match(error.message, /Executor dns\.create planned task dns\.poll_zon/);
      return true;
    },
  );
  const handler = defineExecutor<{ zone: string }>({ ...zoneCreate, onFailure: () => step('dns.cleanup') });
  assert.throws(() => buildPlan(handler, { resource: zone, params: { zone: 'x' } }), UndeclaredTaskError);
});

test('checkPlannedTasks passes when every declared task and default handler is registered', () => {
  const tasks = new TaskRegistry().register(createZone, pollZone, setOkTask, setErredTask);
  checkPlannedTasks(tasks, new ExecutorRegistry().register(zoneCreate).all());
});

test('checkPlannedTasks refuses an unknown task, naming the executor and the task', () => {
  const mistyped = defineExecutor({
    name: 'dns.delete',
    kind: 'delete',
    resourceType: 'zone',
    tasks: ['dns.poll_zon', runExecutorTask],
    steps: () => [step('dns.poll_zon')],
  });
  const tasks = new TaskRegistry().register(createZone, pollZone, setOkTask, setErredTask);
  const executors = new ExecutorRegistry().register(zoneCreate, mistyped);
  assert.throws(
    () => checkPlannedTasks(tasks, executors.all()),
    (error: unknown) => {
      assert.ok(error instanceof UnknownPlannedTaskError);
      assert.equal(error.code, 'UNKNOWN_PLANNED_TASK');
      // The delete executor's default success handler and the nested-executor marker are missing too.
      assert.deepEqual(error.missing, [
        { executor: 'dns.delete', task: 'dns.poll_zon' },
        { executor: 'dns.delete', task: 'jetcel.run_executor' },
        { executor: 'dns.delete', task: 'jetcel.delete_resource' },
      ]);
      assert.match(error.message, /executor dns\.delete has a step with task dns\.poll_zon/);
      return true;
    },
  );
});

test('a task class is declared by its task name, not its class name', () => {
  class ArchiveZoneTask extends Task {
    static override options: TaskOptions = { name: 'dns.archive_zone' };
    async run() {
      return done();
    }
  }
  const archive = defineExecutor({
    name: 'dns.archive',
    kind: 'action',
    resourceType: 'zone',
    tasks: [ArchiveZoneTask],
    steps: () => [step('dns.archive_zone')],
  });
  assert.deepEqual([...plannableTasks(archive)].sort(), ['dns.archive_zone', 'jetcel.set_erred', 'jetcel.set_ok']);
});
