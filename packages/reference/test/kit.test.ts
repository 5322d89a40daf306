import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startCloud } from '@jetcel/cloud';
import { startTestRuntime, type TestRuntime } from '@jetcel/testing-kit';
import { jetcelDomain } from '../src/jetcel-domain.ts';

// The reference domain's executors through the test kit: the stock executor service and workers in
// this process, on a private nats-server and a fresh database, against the simulated cloud.

let cloud: Awaited<ReturnType<typeof startCloud>>;
let runtime: TestRuntime;
before(async () => {
  cloud = await startCloud({ buildDelayMs: 200, deleteDelayMs: 50 });
  const env = { CLOUD_URL: cloud.url, INSTANCE_POLL_INTERVAL_MS: '100' };
  runtime = await startTestRuntime({ domains: [jetcelDomain({ ...process.env, ...env })], env });
});
after(async () => {
  await runtime?.stop();
  await cloud?.close();
});

test('instance create: the server is built, polled until ACTIVE, and the instance OK with its events', async () => {
  const created = await runtime.ok<{ id: string; executionId: string }>('cmd.instance.create', {
    name: 'kit-vm',
    cloudSettingsId: 'default',
  });
  const run = await runtime.run(created.executionId);
  assert.equal(run.execution.status, 'succeeded', run.execution.errorMessage);
  assert.deepEqual(
    run.steps.map((step) => [step.role, step.task, step.status]),
    [
      ['main', 'instance.create_server', 'succeeded'],
      ['main', 'instance.poll_server', 'succeeded'],
      ['success', 'jetcel.set_ok', 'succeeded'],
    ],
  );
  assert.equal(run.resource?.state, 'OK');
  assert.equal(run.resource?.runtimeState, 'ACTIVE');
  assert.ok(run.resource?.backendId, 'the server id is recorded');
  assert.deepEqual(
    run.events.map((event) => event.to),
    ['CREATION_SCHEDULED', 'CREATING', 'OK'],
  );
});
