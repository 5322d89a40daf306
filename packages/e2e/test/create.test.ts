import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { dataOf, Stack } from './stack.ts';

let stack: Stack;
before(async () => {
  stack = await Stack.start({ buildDelayMs: 1200 });
  await stack.spawn('executor');
  await stack.spawn('worker', { queue: 'regular' });
});
after(async () => {
  await stack?.stop();
});

async function setBuildDelay(buildDelayMs: number): Promise<void> {
  const response = await fetch(`${stack.cloud.url}/config`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ buildDelayMs }),
  });
  assert.equal(response.status, 200);
}

test('B1: a create command answers with the new id and state; the instance reaches OK with each step timed', async () => {
  // a build long enough that the poll step finds it still building, however busy the machine
  await setBuildDelay(6_000);
  const reply = await stack.request('cmd.instance.create', { name: 'vm-1', cloudSettingsId: 'default' });
  const created = dataOf<{ id: string; state: string; executionId: string }>(reply);
  assert.match(created.id, /^[0-9a-f-]{36}$/);
  assert.equal(created.state, 'CREATION_SCHEDULED');
  await stack.waitForState(created.id, 'OK').finally(() => setBuildDelay(1_200));
  const instance = await stack.instance(created.id);
  assert.equal(instance.runtimeState, 'ACTIVE');
  assert.ok(instance.backendId);
  assert.equal(instance.errorMessage, '');
  const execution = dataOf<{ status: string; steps: Array<Record<string, unknown>> }>(
    await stack.request('query.execution.get', { id: created.executionId }),
  );
  assert.equal(execution.status, 'succeeded');
  assert.deepEqual(
    execution.steps.map((step) => [step.role, step.task, step.status]),
    [
      ['main', 'instance.create_server', 'succeeded'],
      ['main', 'instance.poll_server', 'succeeded'],
      ['success', 'jetcel.set_ok', 'succeeded'],
    ],
  );
  for (const step of execution.steps) {
    assert.ok(step.queuedAt && step.startedAt && step.finishedAt, `step ${String(step.task)} has its timings`);
    assert.ok(Number(step.durationMs) >= 0);
  }
  const polls = execution.steps[1]?.polls;
  assert.ok(Number(polls) >= 1, 'the build was polled at least once before ACTIVE');
  const servers = await fetch(`${stack.cloud.url}/servers?settingsId=default`).then(
    (response) => response.json() as Promise<unknown[]>,
  );
  assert.equal(servers.length, 1);
});

test('B1: a backend failure ends ERRED with the backend message and a traceback; no later step or success handler ran', async () => {
  await fetch(`${stack.cloud.url}/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ op: 'create', mode: 'error', message: 'Quota exceeded for cores', count: 1 }),
  });
  const created = dataOf<{ id: string; executionId: string }>(
    await stack.request('cmd.instance.create', { name: 'vm-fail', cloudSettingsId: 'default' }),
  );
  await stack.waitForState(created.id, 'ERRED');
  const instance = await stack.instance(created.id);
  assert.equal(instance.errorMessage, 'Quota exceeded for cores');
  assert.match(String(instance.errorTraceback), /BackendError/);
  const execution = dataOf<{ status: string; steps: Array<Record<string, unknown>> }>(
    await stack.request('query.execution.get', { id: created.executionId }),
  );
  await stack.request('query.execution.get', { id: created.executionId });
  assert.equal(execution.status, 'failed');
  assert.deepEqual(
    execution.steps.map((step) => [step.role, step.task, step.status]),
    [
      ['main', 'instance.create_server', 'failed'],
      ['failure', 'instance.set_erred', 'succeeded'],
    ],
  );
});

test('C4: a backend-method step sets its runtime state and transition first, and the success fields only when the call succeeded', async () => {
  await stack.fault({ op: 'create', mode: 'error', message: 'No valid host was found', count: 1 });
  const created = dataOf<{ id: string }>(
    await stack.request('cmd.instance.create', { name: 'c4', cloudSettingsId: 'default' }),
  );
  await stack.waitForState(created.id, 'ERRED');
  const [row] = await stack.sql<{ runtime_state: string; backend_id: string | null }>(
    'select runtime_state, backend_id from ref_instance where id = $1',
    [created.id],
  );
  assert.deepEqual([row?.runtime_state, row?.backend_id], ['provisioning', null]);
  const events = await stack.sql<{ payload: string }>(
    'select payload from jetcel_outbox where subject like $1 order by created_at',
    [`events.instance.${created.id}.%`],
  );
  assert.deepEqual(
    events.map((event) => (JSON.parse(event.payload) as { to: string }).to),
    ['CREATION_SCHEDULED', 'CREATING', 'ERRED'],
    'begin_creating committed before the call; the failure moved it to ERRED',
  );
});
