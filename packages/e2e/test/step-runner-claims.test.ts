import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { builtinTasks, defineExecutor, defineTask, done, step, TaskRegistry } from '@jetcel/core';
import { Db } from '@jetcel/db';
import { FRAMEWORK_MIGRATIONS, migrateUp } from '@jetcel/db';
import { referenceEntities, referenceMigrations } from '@jetcel/reference';
import type { Delivery } from '@jetcel/bus';
import { createLogger } from '@jetcel/runtime';
import { Progress, scheduleExecution, StepRunner } from '@jetcel/runtime/internal';
import { createTestDatabase, queryRows, type TestDatabase } from '@jetcel/testing';

// The claim guarantees at the step runner, against a real PostgreSQL (no broker needed:
// a delivery is just the message bytes the consumer would hand over).

let database: TestDatabase;
let db: Db;
const runs: string[] = [];
let release: (() => void) | undefined;

const slowTask = defineTask({
  name: 'test.slow',
  async run(ctx) {
    runs.push(ctx.stepId ?? '');
    await new Promise<void>((resolve) => {
      release = resolve;
      setTimeout(resolve, 1200);
    });
    return done(undefined, { by: ctx.idempotencyKey });
  },
});
const registry = new TaskRegistry().register(...builtinTasks, slowTask);
const executor = defineExecutor({
  name: 'test.exec',
  kind: 'create',
  resourceType: 'instance',
  tasks: [slowTask],
  steps: () => [step(slowTask)],
});
const logger = createLogger({ level: 'error' });
const runner = (options: { claimTtlMs?: number; heartbeatMs?: number } = {}) =>
  new StepRunner({ db, registry, services: {}, logger, worker: 'test', ...options });

before(async () => {
  database = await createTestDatabase({ prefix: 'claims' });
  await migrateUp(database.url, [FRAMEWORK_MIGRATIONS, referenceMigrations]);
  db = await Db.connect({ url: database.url, entities: referenceEntities });
});
after(async () => {
  await db?.close();
  await database?.drop();
});

/** Schedules a one-step execution and returns the task message bytes of its first step. */
async function firstMessage(): Promise<{ delivery: () => Delivery; stepId: string; executionId: string }> {
  const { executionId } = await db.transaction(async (tx) => {
    const instance = await tx.resources.insert(
      'instance',
      { name: 'c', cloudSettingsId: 'default', flavor: 'small' },
      { executionId: null, actor: null },
    );
    const result = await scheduleExecution(
      tx,
      new Progress({ catalog: registry, executors: { get: () => undefined }, logger }),
      executor,
      {
        resource: instance,
        params: {},
        actor: null,
      },
    );
    if (result.kind !== 'scheduled') throw new Error('not scheduled');
    return result;
  });
  const [row] = await queryRows<{ payload: string }>(
    database.url,
    "select payload from jetcel_outbox where subject = 'tasks.regular' and payload like $1",
    [`%${executionId}%`],
  );
  assert.ok(row);
  const stepId = (JSON.parse(row.payload) as { stepId: string }).stepId;
  const delivery = (): Delivery => ({
    subject: 'tasks.regular',
    data: Buffer.from(row.payload),
    headers: {},
    deliveryCount: 1,
    streamSeq: 1,
    redelivered: false,
    publishedAt: new Date(),
    working() {},
  });
  return { delivery, stepId, executionId };
}

async function stepRows(executionId: string) {
  return queryRows<{ role: string; status: string; result: unknown }>(
    database.url,
    'select role, status, result from jetcel_step where execution_id = $1 order by queued_at',
    [executionId],
  );
}

test('C8: a second delivery of a committed step commits nothing', async () => {
  runs.length = 0;
  const { delivery, executionId } = await firstMessage();
  assert.deepEqual(await runner().handle(delivery()), { kind: 'ack' });
  assert.deepEqual(await runner().handle(delivery()), { kind: 'ack' });
  assert.equal(runs.length, 1, 'the task ran once');
  const steps = await stepRows(executionId);
  // The success handler (set_ok) was settled by the step's commit: written once, as succeeded.
  assert.deepEqual(
    steps.map((step) => [step.role, step.status]),
    [
      ['main', 'succeeded'],
      ['success', 'succeeded'],
    ],
  );
});

test('C8: a second delivery during a live claim is acked and skipped', async () => {
  runs.length = 0;
  const { delivery, executionId } = await firstMessage();
  const first = runner().handle(delivery());
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.deepEqual(await runner().handle(delivery()), { kind: 'ack' });
  assert.equal(runs.length, 1, 'the second delivery did not run the task');
  assert.deepEqual(await first, { kind: 'ack' });
  assert.equal(
    (await stepRows(executionId)).filter((step) => step.role === 'success').length,
    1,
    'the continuation was written once',
  );
});

test("C8: a delivery after the claim expired takes it over; the stale holder's late commit fails", async () => {
  runs.length = 0;
  const { delivery, executionId, stepId } = await firstMessage();
  // The stale holder never heartbeats, so its 200 ms claim expires while its task still runs.
  const stale = runner({ claimTtlMs: 200, heartbeatMs: 60_000 }).handle(delivery());
  await new Promise((resolve) => setTimeout(resolve, 400));
  const fresh = runner().handle(delivery());
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(runs.length, 2, 'the takeover ran the step again (its claim had expired)');
  release?.();
  assert.deepEqual(await stale, { kind: 'ack' });
  assert.deepEqual(await fresh, { kind: 'ack' });
  const [main] = await queryRows<{ status: string; result: { by: string } }>(
    database.url,
    'select status, result from jetcel_step where id = $1',
    [stepId],
  );
  assert.equal(main?.status, 'succeeded');
  const continuations = (await stepRows(executionId)).filter((step) => step.role === 'success');
  assert.equal(continuations.length, 1, 'exactly one commit wrote the continuation');
});
