import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { builtinTasks, defineExecutor, defineTask, done, step, TaskRegistry, TransientError } from '@jetcel/core';
import { Db, FRAMEWORK_MIGRATIONS, migrateUp } from '@jetcel/db';
import { referenceEntities, referenceMigrations } from '@jetcel/reference';
import { createLogger } from '@jetcel/runtime';
import { Progress, scheduleExecution, StepRunner } from '@jetcel/runtime/internal';
import { createTestDatabase, queryRows, type TestDatabase } from '@jetcel/testing';

// Step logs: every line written while a step runs — the runner's own and the task's, through
// ctx.log — names the execution, the step, the task, the resource and the actor.

let database: TestDatabase;
let db: Db;
let fail = false;

const loggingTask = defineTask({
  name: 'test.logging',
  retry: { maxAttempts: 3, initialDelayMs: 10 },
  async run(ctx) {
    ctx.log.info('calling the backend', { flavor: 'small' });
    if (fail) throw new TransientError('backend busy');
    return done();
  },
});
const registry = new TaskRegistry().register(...builtinTasks, loggingTask);
const executor = defineExecutor({
  name: 'test.logs',
  kind: 'create',
  resourceType: 'instance',
  tasks: [loggingTask],
  steps: () => [step(loggingTask)],
});

before(async () => {
  database = await createTestDatabase({ prefix: 'steplogs' });
  await migrateUp(database.url, [FRAMEWORK_MIGRATIONS, referenceMigrations]);
  db = await Db.connect({ url: database.url, entities: referenceEntities });
});
after(async () => {
  await db?.close();
  await database?.drop();
});

async function runFirstStep(
  actor: string,
): Promise<{ lines: Array<Record<string, unknown>>; executionId: string; resourceId: string }> {
  const quiet = createLogger({ level: 'error' });
  const { executionId, resourceId } = await db.transaction(async (tx) => {
    const instance = await tx.resources.insert(
      'instance',
      { name: 'logged', cloudSettingsId: 'default', flavor: 'small' },
      { executionId: null, actor: null },
    );
    const progress = new Progress({ catalog: registry, executors: { get: () => undefined }, logger: quiet });
    const result = await scheduleExecution(tx, progress, executor, { resource: instance, params: {}, actor });
    if (result.kind !== 'scheduled') throw new Error('not scheduled');
    return { executionId: result.executionId, resourceId: instance.id };
  });
  const [row] = await queryRows<{ payload: string; headers: Record<string, string> }>(
    database.url,
    "select payload, headers from jetcel_outbox where subject = 'tasks.regular' and payload like $1",
    [`%${executionId}%`],
  );
  assert.ok(row);
  const lines: string[] = [];
  const logger = createLogger({ level: 'debug', write: (line) => lines.push(line) });
  const runner = new StepRunner({ db, registry, services: {}, logger, worker: 'test' });
  await runner.handle({
    subject: 'tasks.regular',
    data: Buffer.from(row.payload),
    headers: row.headers,
    deliveryCount: 1,
    streamSeq: 1,
    redelivered: false,
    publishedAt: new Date(),
    working() {},
  });
  return { lines: lines.map((line) => JSON.parse(line) as Record<string, unknown>), executionId, resourceId };
}

for (const outcome of ['succeeds', 'retries'] as const) {
  test(`every line of a step that ${outcome} carries executionId, step, task, resource and actor`, async () => {
    fail = outcome === 'retries';
    const { lines, executionId, resourceId } = await runFirstStep('alice@example.org');
    const messages = lines.map((line) => line.msg);
    assert.ok(messages.includes('step started'));
    assert.ok(messages.includes('calling the backend'), 'the task logged through ctx.log');
    assert.ok(
      messages.includes(outcome === 'succeeds' ? 'step succeeded' : 'step retries after a transient error'),
      JSON.stringify(messages),
    );
    for (const line of lines) {
      assert.equal(line.executionId, executionId, `${String(line.msg)}: executionId`);
      assert.match(String(line.stepId), /^[0-9a-f-]{36}$/, `${String(line.msg)}: stepId`);
      assert.equal(line.step, 'main:0.0', `${String(line.msg)}: step`);
      assert.equal(line.task, 'test.logging', `${String(line.msg)}: task`);
      assert.equal(line.resource, `instance:${resourceId}`, `${String(line.msg)}: resource`);
      assert.equal(line.actor, 'alice@example.org', `${String(line.msg)}: actor`);
      assert.equal(typeof line.level, 'string');
    }
  });
}
