import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connectBus, type Bus } from '@jetcel/bus';
import {
  checkPlannedTasks,
  defineExecutor,
  ExecutorRegistry,
  silentLogger,
  step,
  UnknownPlannedTaskError,
} from '@jetcel/core';
import { Db } from '@jetcel/db';
import { CloudClient, createReferenceDomain } from '@jetcel/reference';
import { retentionPruner, serviceConfigFromEnv, startExecutorService, startWorker } from '@jetcel/runtime';
import { Stack } from './stack.ts';

// The start-up check: a service whose executors can plan a task its registry lacks refuses to
// start, naming the executor and the task, before it consumes or serves anything.

let stack: Stack;
let bus: Bus;
let db: Db;
const domain = createReferenceDomain();
const mistyped = defineExecutor({
  name: 'zone.create',
  kind: 'create',
  resourceType: 'instance',
  tasks: ['instance.create_server', 'dns.poll_zon'],
  steps: () => [step('instance.create_server'), step('dns.poll_zon')],
});
const executors = new ExecutorRegistry().register(...domain.executorRegistry.all(), mistyped);

before(async () => {
  stack = await Stack.start();
  bus = await connectBus({ servers: stack.natsUrls, name: 'planned-tasks' });
  db = await Db.connect({ url: stack.database.url, entities: domain.entities });
});
after(async () => {
  await bus?.close();
  await db?.close();
  await stack?.stop();
});

const refused = (error: unknown): boolean => {
  assert.ok(error instanceof UnknownPlannedTaskError);
  assert.equal(error.code, 'UNKNOWN_PLANNED_TASK');
  assert.deepEqual(error.missing, [{ executor: 'zone.create', task: 'dns.poll_zon' }]);
  assert.match(error.message, /executor zone\.create has a step with task dns\.poll_zon/);
  return true;
};

test('the reference domain plans only registered tasks', () => {
  checkPlannedTasks(domain.tasks, domain.executorRegistry.all());
});

test('a worker whose executors plan an unknown task refuses to start', async () => {
  const config = serviceConfigFromEnv(stack.env);
  await assert.rejects(
    startWorker({
      bus,
      db,
      queue: 'regular',
      concurrency: 1,
      registry: domain.tasks,
      executors,
      services: { cloud: new CloudClient(stack.cloud.url), retention: retentionPruner(db, config.retention) },
      logger: silentLogger,
      config,
    }),
    refused,
  );
});

test('the executor service refuses to start too', async () => {
  await assert.rejects(
    startExecutorService({
      bus,
      db,
      catalog: domain.tasks,
      executors,
      commands: domain.commands,
      logger: silentLogger,
      config: serviceConfigFromEnv(stack.env),
    }),
    refused,
  );
});
