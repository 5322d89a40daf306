import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { streamInfo } from '@jetcel/bus';
import { Db } from '@jetcel/db';
import { createReferenceDomain } from '@jetcel/reference';
import { createLogger } from '@jetcel/runtime';
import { Progress, scheduleExecution, startRelay } from '@jetcel/runtime/internal';
import { eventually } from '@jetcel/testing';
import { Stack } from './stack.ts';

let stack: Stack;
let db: Db;
let relay: ReturnType<typeof startRelay>;
const domain = createReferenceDomain();
const logger = createLogger({ level: 'error' });

before(async () => {
  stack = await Stack.start();
  db = await Db.connect({ url: stack.database.url, entities: domain.entities });
  relay = startRelay({ bus: stack.bus, db, logger, sweepMs: 200, claimGraceMs: 1000 });
});
after(async () => {
  await relay?.stop();
  await db?.close();
  await stack?.stop();
});

async function schedule(name: string, thenFail: boolean): Promise<void> {
  await db.transaction(async (tx) => {
    const instance = await tx.resources.insert(
      'instance',
      { name, cloudSettingsId: 'default', flavor: 'small' },
      { executionId: null, actor: null },
    );
    await scheduleExecution(
      tx,
      new Progress({ catalog: domain.tasks, executors: domain.executorRegistry, logger }),
      domain.executors.create,
      {
        resource: instance,
        params: { volumeIds: [] },
        actor: 'alice',
      },
    );
    if (thenFail) throw new Error('the caller changed its mind after scheduling');
  });
}

test('F1/B6: a rolled-back transaction publishes nothing and leaves no execution row; a committed one publishes once', async () => {
  await assert.rejects(schedule('rolled-back', true), /changed its mind/);
  await schedule('committed', false);
  await eventually(async () => (await streamInfo(stack.bus, 'TASKS_REGULAR')).messages === 1, {
    timeoutMs: 5000,
    message: 'the committed step was published',
  });
  await new Promise((resolve) => setTimeout(resolve, 600)); // two more sweeps: nothing else may appear
  await relay.idle();
  assert.equal((await streamInfo(stack.bus, 'TASKS_REGULAR')).messages, 1);
  assert.equal((await streamInfo(stack.bus, 'TASKS_HEAVY')).messages, 0);
  assert.equal((await streamInfo(stack.bus, 'TASKS_BACKGROUND')).messages, 0);
  const instances = await stack.sql<{ name: string }>('select name from ref_instance');
  assert.deepEqual(
    instances.map((row) => row.name),
    ['committed'],
  );
  const executions = await stack.sql('select id from jetcel_execution');
  assert.equal(executions.length, 1);
  const unpublished = await stack.sql('select id from jetcel_outbox where published_at is null');
  assert.equal(unpublished.length, 0);
  // One state_changed event for the committed insert, none for the rolled-back one.
  assert.equal((await streamInfo(stack.bus, 'EVENTS')).messages, 1);
});
