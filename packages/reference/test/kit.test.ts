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

/** An OK instance with one OK 10 GiB volume attached. */
async function instanceWithVolume(name: string) {
  const created = await runtime.ok<{ id: string; executionId: string; volumeIds: string[] }>('cmd.instance.create', {
    name,
    cloudSettingsId: 'default',
    volumes: [{ name: 'disk', size: 10 }],
  });
  assert.equal((await runtime.run(created.executionId)).execution.status, 'succeeded');
  const [volumeId] = created.volumeIds;
  assert.ok(volumeId);
  return { created, volumeId };
}

test("volume extend: preApply schedules the attached instance's update too; the success chain sets both OK", async () => {
  const { created, volumeId } = await instanceWithVolume('kit-disk');
  const grown = await runtime.ok<{ executionId: string }>('cmd.volume.extend', { id: volumeId, size: 20 });
  const scheduled = await runtime.resource('instance', created.id);
  assert.deepEqual(
    [scheduled?.state, scheduled?.action, scheduled?.actionDetails],
    ['UPDATE_SCHEDULED', 'Extend volume', { volume: volumeId }],
    'preApply marked the instance in the command transaction',
  );
  const run = await runtime.run(grown.executionId);
  assert.equal(run.execution.status, 'succeeded', run.execution.errorMessage);
  assert.deepEqual(
    run.steps.map((step) => [step.role, step.task, step.resourceRef?.split(':')[0]]),
    [
      ['main', 'volume.extend_volume', 'volume'],
      ['main', 'volume.poll_volume', 'volume'],
      ['success', 'jetcel.set_ok', 'instance'],
      ['success', 'jetcel.set_ok', 'volume'],
    ],
  );
  assert.deepEqual([run.resource?.state, run.resource?.fields.size], ['OK', 20]);
  const instance = await runtime.resource('instance', created.id);
  assert.deepEqual([instance?.state, instance?.action], ['OK', '']);
});

test('volume extend: refused while the attached instance is busy, and nothing of the command is kept', async () => {
  const { created, volumeId } = await instanceWithVolume('kit-busy');
  await runtime.db.transaction(async (tx) => {
    const instance = await tx.resources.get('instance', created.id, { forUpdate: true });
    assert.ok(instance);
    await tx.resources.applyPatch(instance, { transition: 'schedule_updating' }, { executionId: null, actor: null });
  });
  const refused = await runtime.request('cmd.volume.extend', { id: volumeId, size: 30 });
  assert.equal(refused.ok ? 'ok' : refused.error.code, 'INVALID_STATE');
  const volume = await runtime.resource('volume', volumeId);
  assert.deepEqual([volume?.state, volume?.action, volume?.fields.size], ['OK', '', 10]);
});
