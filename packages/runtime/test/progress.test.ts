import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import {
  builtinTasks,
  defineExecutor,
  defineTask,
  done,
  silentLogger,
  TaskRegistry,
  type FailureInfo,
  type PlanNode,
} from '@jetcel/core';
import type { StepRecord } from '@jetcel/db';
import { queryRows } from '@jetcel/testing';
import { Progress } from '../src/execution/progress.ts';
import { scheduleExecution } from '../src/execution/schedule.ts';
import { useTestDb } from './db-fixture.ts';

// Progress through a plan, inside the transaction that finishes each step (as the step commit
// does): the chain, the handlers, ignoreErrors, groups under both policies, and cancel.

const env = useTestDb({ widgets: true });

const tasks = ['test.a', 'test.b', 'test.c', 'test.d'].map((name) =>
  defineTask({ name, run: async () => done(undefined) }),
);
const catalog = new TaskRegistry().register(...builtinTasks, ...tasks);
const progress = new Progress({ catalog, executors: { get: () => undefined }, logger: silentLogger });
const boom: FailureInfo = { message: 'boom', traceback: 'at test', errorName: 'Boom' };

/** Schedules a create executor with these nodes on a fresh widget; returns the execution id. */
async function schedule(steps: PlanNode[]): Promise<string> {
  const executor = defineExecutor({
    name: 'widget.test',
    kind: 'create',
    resourceType: 'widget',
    tasks: tasks.map((task) => task.name),
    steps: () => steps,
  });
  return env.db.transaction(async (tx) => {
    const widget = await tx.resources.insert('widget', { name: 'w' }, { executionId: null, actor: null });
    const scheduled = await scheduleExecution(tx, progress, executor, { resource: widget, params: {}, actor: 'alice' });
    assert.equal(scheduled.kind, 'scheduled');
    return scheduled.kind === 'scheduled' ? scheduled.executionId : '';
  });
}

/** Claims a step, records its outcome and moves the execution on, in one transaction (the step commit's order). */
async function finish(step: StepRecord, failure?: FailureInfo): Promise<void> {
  await env.db.transaction(async (tx) => {
    const token = randomUUID();
    const claim = await tx.steps.claim(step.id, { token, worker: 'test', ttlMs: 30_000 });
    assert.equal(claim.kind, 'claimed', `step ${step.task} could not be claimed`);
    if (claim.kind !== 'claimed') return;
    await tx.steps.complete(step.id, token, failure ? { status: 'failed', failure } : { status: 'succeeded' });
    const execution = await tx.executions.lock(step.executionId);
    assert.ok(execution);
    if (failure) await progress.stepFailed(tx, execution, claim.step, failure);
    else await progress.stepSucceeded(tx, execution, claim.step);
  });
}

async function stepsOf(executionId: string): Promise<StepRecord[]> {
  return env.db.read((tx) => tx.executions.steps(executionId));
}

/** The steps as `role:position.member task status`, in queue order. */
async function shape(executionId: string): Promise<string[]> {
  const steps = await stepsOf(executionId);
  return steps
    .sort((a, b) => a.queuedAt.getTime() - b.queuedAt.getTime() || a.position - b.position || a.member - b.member)
    .map((step) => `${step.role}:${step.position}.${step.member} ${step.task} ${step.status}`);
}

async function queued(executionId: string, task: string, member = 0): Promise<StepRecord> {
  const step = (await stepsOf(executionId)).find(
    (candidate) => candidate.task === task && candidate.status === 'queued' && candidate.member === member,
  );
  assert.ok(step, `no queued ${task} (member ${member})`);
  return step;
}

async function statusOf(executionId: string): Promise<{ status: string; errorMessage: string }> {
  const execution = await env.db.read((tx) => tx.executions.get(executionId));
  assert.ok(execution);
  return { status: execution.status, errorMessage: execution.errorMessage };
}

async function outboxRowsFor(stepId: string): Promise<number> {
  const rows = await queryRows(env.database.url, 'select 1 from jetcel_outbox where payload like $1', [`%${stepId}%`]);
  return rows.length;
}

test('the chain advances one node per finished step, then the success handler, then the end', async () => {
  const id = await schedule([{ task: 'test.a' }, { task: 'test.b' }]);
  assert.deepEqual(await shape(id), ['main:0.0 test.a queued']);
  await finish(await queued(id, 'test.a'));
  const b = await queued(id, 'test.b');
  assert.equal(b.position, 1);
  assert.equal(await outboxRowsFor(b.id), 1, 'each queued step has its task message in the same transaction');
  await finish(b);
  await finish(await queued(id, 'jetcel.set_ok'));
  assert.deepEqual(await shape(id), [
    'main:0.0 test.a succeeded',
    'main:1.0 test.b succeeded',
    'success:0.0 jetcel.set_ok succeeded',
  ]);
  assert.deepEqual(await statusOf(id), { status: 'succeeded', errorMessage: '' });
});

test('a failed step skips the rest of the chain: the failure handler gets the failure, and the execution fails', async () => {
  const id = await schedule([{ task: 'test.a' }, { task: 'test.b' }]);
  await finish(await queued(id, 'test.a'), boom);
  const handler = await queued(id, 'jetcel.set_erred');
  assert.equal(handler.role, 'failure');
  assert.deepEqual((handler.args as { failure: unknown }).failure, {
    message: 'boom',
    traceback: 'at test',
    errorName: 'Boom',
  });
  assert.equal((await statusOf(id)).errorMessage, 'boom');
  await finish(handler);
  assert.deepEqual(await shape(id), ['main:0.0 test.a failed', 'failure:0.0 jetcel.set_erred succeeded']);
  assert.equal((await statusOf(id)).status, 'failed');
});

test('a failed step marked ignoreErrors counts as success for the plan', async () => {
  const id = await schedule([{ task: 'test.a', ignoreErrors: true }, { task: 'test.b' }]);
  await finish(await queued(id, 'test.a'), boom);
  await queued(id, 'test.b');
  assert.equal((await statusOf(id)).status, 'running');
});

test('a wait_all group continues once every member has finished', async () => {
  const id = await schedule([
    { group: [{ task: 'test.a' }, { task: 'test.b' }, { task: 'test.c' }], policy: 'wait_all' },
    { task: 'test.d' },
  ]);
  assert.equal((await stepsOf(id)).length, 3);
  await finish(await queued(id, 'test.a', 0));
  await finish(await queued(id, 'test.b', 1));
  assert.equal((await stepsOf(id)).length, 3, 'nothing follows before the last member');
  await finish(await queued(id, 'test.c', 2));
  const next = await queued(id, 'test.d');
  assert.equal(next.position, 1);
});

test('a wait_all group with a failed member fails only after all its members have finished', async () => {
  const id = await schedule([
    { group: [{ task: 'test.a' }, { task: 'test.b' }], policy: 'wait_all' },
    { task: 'test.d' },
  ]);
  await finish(await queued(id, 'test.a', 0), boom);
  assert.equal((await stepsOf(id)).length, 2, 'the other member still runs; no handler yet');
  await finish(await queued(id, 'test.b', 1));
  await queued(id, 'jetcel.set_erred');
  assert.ok(!(await shape(id)).some((line) => line.includes('test.d')));
  assert.equal((await statusOf(id)).errorMessage, 'boom');
});

test('a fail_fast group cancels the members not yet started and fails at once', async () => {
  const id = await schedule([
    { group: [{ task: 'test.a' }, { task: 'test.b' }, { task: 'test.c' }], policy: 'fail_fast' },
    { task: 'test.d' },
  ]);
  await finish(await queued(id, 'test.b', 1), boom);
  assert.deepEqual((await shape(id)).sort(), [
    'failure:0.0 jetcel.set_erred queued',
    'main:0.0 test.a cancelled',
    'main:0.1 test.b failed',
    'main:0.2 test.c cancelled',
  ]);
});

test('cancel: queued steps are cancelled, the failure handler compensates with the cancel, the execution ends cancelled', async () => {
  const id = await schedule([{ task: 'test.a' }, { task: 'test.b' }]);
  await env.db.transaction(async (tx) => {
    const execution = await tx.executions.lock(id);
    assert.ok(execution);
    await progress.cancel(tx, execution);
  });
  const handler = await queued(id, 'jetcel.set_erred');
  const failure = (handler.args as { failure: { message: string; cancelled: { backendEffectStarted: boolean } } })
    .failure;
  assert.equal(failure.message, 'cancelled');
  assert.equal(failure.cancelled.backendEffectStarted, false, 'no step had started');
  assert.equal((await statusOf(id)).status, 'cancel_requested');
  await finish(handler);
  assert.deepEqual(await shape(id), ['main:0.0 test.a cancelled', 'failure:0.0 jetcel.set_erred succeeded']);
  assert.equal((await statusOf(id)).status, 'cancelled');
});
