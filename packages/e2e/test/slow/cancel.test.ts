import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, type ServiceProcess } from '@jetcel/testing';
import { Stack } from '../stack.ts';

let stack: Stack;
let worker: ServiceProcess;
before(async () => {
  stack = await Stack.start({ buildDelayMs: 120_000, env: { INSTANCE_POLL_INTERVAL_MS: '400' } });
  await stack.spawn('executor');
  worker = await stack.spawn('worker', { queue: 'regular' });
});
after(async () => {
  await stack?.stop();
});

const pollsOf = async (executionId: string): Promise<number> =>
  Number(
    (
      await stack.sql<{ polls: number }>(
        "select polls from jetcel_step where execution_id = $1 and task = 'instance.poll_server'",
        [executionId],
      )
    )[0]?.polls ?? 0,
  );

test('B9: cancel of a finished execution is INVALID_STATE; an unknown one NOT_FOUND', async () => {
  await fetch(`${stack.cloud.url}/config`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ buildDelayMs: 50 }),
  });
  const { executionId } = await stack.readyInstance('done-already');
  await stack.waitForExecution(executionId);
  const reply = await stack.request('cmd.execution.cancel', { id: executionId });
  assert.equal(reply.ok ? 'ok' : reply.error.code, 'INVALID_STATE');
  const missing = await stack.request('cmd.execution.cancel', { id: '00000000-0000-4000-8000-000000000000' });
  assert.equal(missing.ok ? 'ok' : missing.error.code, 'NOT_FOUND');
  await fetch(`${stack.cloud.url}/config`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ buildDelayMs: 120_000 }),
  });
});

test('B9: cancel during a polling chain stops it within one poll interval and stays cancelled after every worker restarts', async () => {
  const created = await stack.ok<{ id: string; executionId: string }>('cmd.instance.create', {
    name: 'long-build',
    cloudSettingsId: 'default',
  });
  await eventually(async () => (await pollsOf(created.executionId)) >= 10, { timeoutMs: 15_000, message: 'ten polls' });
  const cancel = await stack.ok<{ status: string }>('cmd.execution.cancel', { id: created.executionId });
  assert.equal(cancel.status, 'cancel_requested');
  // A repeated cancel is harmless: still cancelling, or already ended (then INVALID_STATE, as above).
  const again = await stack.request('cmd.execution.cancel', { id: created.executionId });
  const againStatus = again.ok
    ? (again.data as { status: string }).status
    : `${again.error.code}:${String((again.error.details as { status?: string } | undefined)?.status)}`;
  assert.ok(
    ['cancel_requested', 'cancelled', 'INVALID_STATE:cancelled'].includes(againStatus),
    `a repeated cancel is harmless (${againStatus})`,
  );
  const execution = await stack.waitForExecution(created.executionId, 5000);
  assert.equal(execution.status, 'cancelled');
  const pollsAtCancel = await pollsOf(created.executionId);
  await new Promise((resolve) => setTimeout(resolve, 1200)); // three poll intervals
  assert.ok((await pollsOf(created.executionId)) <= pollsAtCancel + 1, 'at most the poll already in flight finished');
  const instance = await stack.instance(created.id);
  assert.deepEqual(
    [instance.state, instance.errorMessage],
    ['ERRED', 'cancelled'],
    'a backend effect had started, so the resource is ERRED "cancelled"',
  );
  assert.ok(instance.backendId, 'the backend id recorded by the create step is kept');
  await worker.stop();
  worker = await stack.spawn('worker', { queue: 'regular' });
  await new Promise((resolve) => setTimeout(resolve, 1200));
  assert.equal((await stack.waitForExecution(created.executionId)).status, 'cancelled');
  const after = await pollsOf(created.executionId);
  await new Promise((resolve) => setTimeout(resolve, 800));
  assert.equal(await pollsOf(created.executionId), after, 'no poll resumed after the restart');
  const failureHandlers = execution.steps.filter((step) => step.role === 'failure');
  assert.equal(failureHandlers.length, 1);
});

test('B9: cancel of a create whose backend call is in flight still records the backend id', async () => {
  await stack.fault({ op: 'create', resource: 'server', mode: 'delay', delayMs: 1500, count: 1 });
  const created = await stack.ok<{ id: string; executionId: string }>('cmd.instance.create', {
    name: 'in-flight',
    cloudSettingsId: 'default',
  });
  await eventually(async () => {
    const rows = await stack.sql<{ status: string }>(
      "select status from jetcel_step where execution_id = $1 and task = 'instance.create_server'",
      [created.executionId],
    );
    return rows[0]?.status === 'running';
  });
  await stack.ok('cmd.execution.cancel', { id: created.executionId });
  const execution = await stack.waitForExecution(created.executionId, 10_000);
  assert.equal(execution.status, 'cancelled');
  const createStep = execution.steps.find((step) => step.task === 'instance.create_server');
  assert.equal(createStep?.status, 'succeeded', 'the step in flight recorded its result');
  assert.equal(
    execution.steps.filter((step) => step.task === 'instance.poll_server').length,
    0,
    'no later step started',
  );
  const instance = await stack.instance(created.id);
  assert.equal(instance.state, 'ERRED');
  assert.ok(instance.backendId, 'the server at the backend is not orphaned');
  const servers = (await fetch(`${stack.cloud.url}/servers`).then((r) => r.json())) as Array<{ id: string }>;
  assert.ok(servers.some((server) => server.id === instance.backendId));
});

test('B9: cancel before any backend step restores the previous state; a create that never started deletes its row', async () => {
  await fetch(`${stack.cloud.url}/config`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ buildDelayMs: 50 }),
  });
  const { id } = await stack.readyInstance('keep-me');
  await stack.sql(
    "update ref_instance set state = 'ERRED', error_message = 'old trouble', error_traceback = 'old trace', version = version + 1 where id = $1",
    [id],
  );
  await worker.stop();
  const rename = await stack.ok<{ executionId: string; state: string }>('cmd.instance.rename', {
    id,
    name: 'renamed-then-cancelled',
  });
  assert.equal(rename.state, 'UPDATE_SCHEDULED');
  const pending = await stack.ok<{ id: string; executionId: string }>('cmd.instance.create', {
    name: 'never-built',
    cloudSettingsId: 'default',
  });
  await stack.ok('cmd.execution.cancel', { id: rename.executionId });
  await stack.ok('cmd.execution.cancel', { id: pending.executionId });
  worker = await stack.spawn('worker', { queue: 'regular' });
  assert.equal((await stack.waitForExecution(rename.executionId)).status, 'cancelled');
  assert.equal((await stack.waitForExecution(pending.executionId)).status, 'cancelled');
  const restored = await stack.instance(id);
  assert.deepEqual(
    [restored.state, restored.errorMessage, restored.errorTraceback],
    ['ERRED', 'old trouble', 'old trace'],
  );
  assert.equal(
    (await stack.sql('select id from ref_instance where id = $1', [pending.id])).length,
    0,
    'the never-started create removed its row',
  );
  const renameSteps = await stack.sql<{ status: string; started_at: Date | null }>(
    "select status, started_at from jetcel_step where execution_id = $1 and role = 'main'",
    [rename.executionId],
  );
  assert.deepEqual(
    renameSteps.map((step) => [step.status, step.started_at]),
    [['cancelled', null]],
  );
});
