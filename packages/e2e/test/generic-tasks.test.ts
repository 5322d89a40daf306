import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  builtinTasks,
  defineBackendTasks,
  defineExecutor,
  defineTask,
  done,
  ExecutorRegistry,
  step,
  TaskRegistry,
  waitUntilNotBusy,
  type BackendCall,
  type BackendReading,
  type ExecutorDefinition,
  type ResourcePatch,
} from '@jetcel/core';
import { Db } from '@jetcel/db';
import { referenceEntities } from '@jetcel/reference';
import { createLogger, serviceConfigFromEnv, startWorker, type RunningWorker } from '@jetcel/runtime';
import { Progress, scheduleExecution } from '@jetcel/runtime/internal';
import { eventually } from '@jetcel/testing';
import { Stack } from './stack.ts';

// The generic tasks and the throttle limits declared in code, run by a real worker on real NATS
// and PostgreSQL: a backend method called by name, a backend state polled until success, a wait
// until another resource is no longer busy, and a kind whose declared limit a row overrides.

/** The backend the domain's services expose: what the generic tasks call by name. */
class GenericBackend {
  readonly renamed: string[] = [];
  reads = 0;
  async rename(call: BackendCall<{ name: string }>): Promise<ResourcePatch> {
    this.renamed.push(`${call.resource.id}:${call.args.name}`);
    return { fields: { name: call.args.name } };
  }
  /** BUILD for the first two reads, then ACTIVE. */
  async status(): Promise<BackendReading | null> {
    this.reads += 1;
    return { state: this.reads > 2 ? 'ACTIVE' : 'BUILD' };
  }
}

interface Services {
  backend: GenericBackend;
}

const backend = defineBackendTasks({ prefix: 'generic', backend: (services: Services) => services.backend });

const renameAndWait = defineExecutor<{ other: string }>({
  name: 'generic.rename',
  kind: 'create',
  resourceType: 'instance',
  tasks: [...backend.tasks, 'jetcel.wait_not_busy'],
  steps: ({ params }) => [
    backend.call('rename', { name: 'renamed' }, { before: { transition: 'begin_creating' } }),
    backend.pollRuntimeState('status', { success: ['ACTIVE'], erred: ['ERROR'], intervalMs: 50 }),
    waitUntilNotBusy(params.other, { intervalMs: 50 }),
  ],
});

let running = 0;
let peak = 0;
const slowTask = defineTask({
  name: 'generic.slow',
  async run() {
    running += 1;
    peak = Math.max(peak, running);
    await new Promise((resolve) => setTimeout(resolve, 300));
    running -= 1;
    return done();
  },
});
const throttled = defineExecutor({
  name: 'generic.throttled',
  kind: 'create',
  resourceType: 'instance',
  tasks: [slowTask],
  throttle: { kind: 'generic_build', scope: () => 'one', limit: 1 },
  steps: () => [step(slowTask, undefined, { throttled: true, before: { transition: 'begin_creating' } })],
});

const registry = new TaskRegistry<Services>().register(...builtinTasks, ...backend.tasks, slowTask);
const executors = new ExecutorRegistry().register(renameAndWait, throttled);
const logger = createLogger({ level: 'error' });
const services: Services = { backend: new GenericBackend() };

let stack: Stack;
let db: Db;
let worker: RunningWorker;
before(async () => {
  // A deployment default of 4: the kind's declared limit of 1 is what holds.
  stack = await Stack.start({ env: { THROTTLE_DEFAULT_LIMIT: '4', THROTTLE_RECHECK_MS: '200' } });
  db = await Db.connect({ url: stack.database.url, entities: referenceEntities });
  const config = serviceConfigFromEnv(stack.env);
  worker = await startWorker({
    bus: stack.bus,
    db,
    queue: 'regular',
    concurrency: 6,
    registry,
    executors,
    services,
    logger,
    config,
  });
});
after(async () => {
  await worker?.stop(2000);
  await db?.close();
  await stack?.stop();
});

async function insertInstance(name: string, state?: 'UPDATING'): Promise<string> {
  const id = await db.transaction(async (tx) => {
    const row = await tx.resources.insert(
      'instance',
      { name, cloudSettingsId: 'default', flavor: 'small' },
      { executionId: null, actor: null },
    );
    return row.id;
  });
  if (state) await stack.pool.query('update ref_instance set state = $1 where id = $2', [state, id]);
  return id;
}

async function schedule(executor: ExecutorDefinition<never>, id: string, params: object = {}): Promise<string> {
  return db.transaction(async (tx) => {
    const resource = await tx.resources.get('instance', id);
    assert.ok(resource);
    const progress = new Progress({ catalog: registry, executors, logger });
    const result = await scheduleExecution(tx, progress, executor, { resource, params: params as never, actor: null });
    if (result.kind !== 'scheduled') throw new Error(`not scheduled: ${result.kind}`);
    return result.executionId;
  });
}

async function finished(executionId: string): Promise<string> {
  return eventually(
    async () => {
      const { rows } = await stack.pool.query<{ status: string }>('select status from jetcel_execution where id = $1', [
        executionId,
      ]);
      const status = rows[0]?.status;
      return status && status !== 'running' ? status : undefined;
    },
    { timeoutMs: 30_000 },
  );
}

test('a backend method by name, a backend state polled until ACTIVE, then a wait until another resource is free', async () => {
  const other = await insertInstance('busy', 'UPDATING');
  const id = await insertInstance('original');
  const executionId = await schedule(renameAndWait, id, { other: `instance:${other}` });
  // The execution waits on the busy instance; once it is OK the wait ends.
  await eventually(() => services.backend.reads >= 3, { timeoutMs: 20_000 });
  await new Promise((resolve) => setTimeout(resolve, 300));
  const { rows: waiting } = await stack.pool.query<{ status: string }>(
    'select status from jetcel_execution where id = $1',
    [executionId],
  );
  assert.equal(waiting[0]?.status, 'running', 'still waiting for the busy instance');
  await stack.pool.query(`update ref_instance set state = 'OK' where id = $1`, [other]);
  assert.equal(await finished(executionId), 'succeeded');
  const { rows } = await stack.pool.query<{ name: string; runtime_state: string; state: string }>(
    'select name, runtime_state, state from ref_instance where id = $1',
    [id],
  );
  assert.deepEqual(rows[0], { name: 'renamed', runtime_state: 'ACTIVE', state: 'OK' });
  assert.deepEqual(services.backend.renamed, [`${id}:renamed`]);
});

test('a throttle limit declared in code holds over the default; a jetcel_throttle_limit row overrides it', async () => {
  const runBatch = async (count: number) => {
    peak = 0;
    const ids = await Promise.all(Array.from({ length: count }, (_, i) => insertInstance(`t-${i}`)));
    const executions = await Promise.all(ids.map((id) => schedule(throttled as ExecutorDefinition<never>, id)));
    for (const executionId of executions) assert.equal(await finished(executionId), 'succeeded');
    return peak;
  };
  assert.equal(await runBatch(3), 1, 'the declared limit of 1');
  await stack.pool.query(`insert into jetcel_throttle_limit (kind, scope, "limit") values ('generic_build', '*', 3)`);
  assert.equal(await runBatch(4), 3, 'the row wins over the declared limit');
});
