import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defineTask, silentLogger, TaskRegistry, type Plan } from '@jetcel/core';
import { InjectedFaultError } from '@jetcel/db';
import { queryRows } from '@jetcel/testing';
import { DEAD_LETTER_FAULT } from '../src/delivery/dead-letters.ts';
import { Progress } from '../src/execution/progress.ts';
import { StepRunner } from '../src/step/runner.ts';
import { useTestDb } from './db-fixture.ts';
import { scheduleWidgetPlan } from './step-fixture.ts';

// A step whose task no worker knows: its dead letter and its execution's failure commit in one
// transaction. A failure between the two (an injected fault) leaves neither; without it, both.

const env = useTestDb({ widgets: true });

const noop = defineTask({ name: 'test.noop', run: async () => undefined });
const gone = defineTask({ name: 'test.gone', run: async () => undefined });
// The plan was made where `test.gone` existed; the worker below no longer has it.
const progress = new Progress({
  catalog: new TaskRegistry().register(noop, gone),
  executors: { get: () => undefined },
  logger: silentLogger,
});
const plan: Plan = {
  v: 2,
  executor: 'test.gone',
  steps: [{ task: 'test.gone' }],
  onSuccess: [{ task: 'test.noop' }],
  onFailure: [{ task: 'test.noop' }],
};

const runner = (): StepRunner<unknown> =>
  new StepRunner({
    db: env.db,
    registry: new TaskRegistry().register(noop),
    services: {},
    logger: silentLogger,
    worker: 'local',
    unknownTaskGraceMs: 0,
  });

async function state(executionId: string) {
  const letters = await queryRows<{ reason: string }>(
    env.database.url,
    'select reason from jetcel_dead_letter where execution_id = $1',
    [executionId],
  );
  const steps = await queryRows<{ role: string; status: string }>(
    env.database.url,
    'select role, status from jetcel_step where execution_id = $1 order by queued_at',
    [executionId],
  );
  return { letters: letters.map((row) => row.reason), steps: steps.map((row) => `${row.role} ${row.status}`) };
}

test('a failure between the dead letter and the step failure leaves neither; the next delivery commits both', async () => {
  const { executionId, delivery } = await scheduleWidgetPlan(env, progress, plan);
  process.env.JETCEL_FAULT_THROW = DEAD_LETTER_FAULT;
  try {
    await assert.rejects(runner().handle(delivery), InjectedFaultError);
  } finally {
    delete process.env.JETCEL_FAULT_THROW;
  }
  assert.deepEqual(await state(executionId), { letters: [], steps: ['main queued'] }, 'nothing was written');

  // Redelivered (the message was never termed): this time both commit together.
  assert.deepEqual(await runner().handle(delivery), { kind: 'term' });
  assert.deepEqual(await state(executionId), {
    letters: ['UNKNOWN_TASK'],
    steps: ['main failed', 'failure queued'],
  });
});
