import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestRuntime, type TestRuntime } from '@jetcel/testing-kit';
import { FakeDnsProvider, jetcelDomain, zoneCreateExecutor, ZONE_TYPE } from '@jetcel/example-dns';

// The domain's executors in an in-process runtime (the stock executor service and workers) on a
// private nats-server and a fresh database: a command schedules, the runtime runs it to its end.

const dns = new FakeDnsProvider({ activateAfterMs: 200 });
let runtime: TestRuntime;
before(async () => {
  runtime = await startTestRuntime({ domains: [jetcelDomain(process.env)], services: { dns } });
});
after(async () => {
  await runtime?.stop();
});

test('create: the zone is made at the provider, polled until ACTIVE, and OK', async () => {
  const created = await runtime.ok<{ id: string; executionId: string }>('cmd.dns_zone.create', { name: 'example.org' });
  const run = await runtime.run(created.executionId);
  assert.equal(run.execution.status, 'succeeded');
  assert.deepEqual(
    run.steps.map((step) => [step.role, step.task, step.status]),
    [
      ['main', 'dns.create_zone', 'succeeded'],
      ['main', 'dns.poll_zone', 'succeeded'],
      ['success', 'jetcel.set_ok', 'succeeded'],
    ],
  );
  assert.equal(run.resource?.state, 'OK');
  assert.equal(run.resource?.runtimeState, 'ACTIVE');
  assert.equal(run.resource?.backendId, dns.zones()[0]?.id);
  assert.deepEqual(
    run.events.map((event) => event.to),
    ['CREATION_SCHEDULED', 'CREATING', 'OK'],
  );
});

test('create: a provider refusal ends the zone ERRED with the provider message', async () => {
  dns.knobs.refuseCreates = 'quota of zones exceeded';
  try {
    const zone = await runtime.insert(ZONE_TYPE, { name: 'refused.org', account: 'default', owner: null });
    const run = await runtime.execute(zoneCreateExecutor, zone, {});
    assert.equal(run.execution.status, 'failed');
    assert.equal(run.resource?.state, 'ERRED');
    assert.match(run.resource?.errorMessage ?? '', /quota of zones exceeded/);
    assert.deepEqual(
      run.steps.map((step) => [step.role, step.task, step.status]),
      [
        ['main', 'dns.create_zone', 'failed'],
        ['failure', 'jetcel.set_erred', 'succeeded'],
      ],
    );
  } finally {
    dns.knobs.refuseCreates = null;
  }
});

test('delete: the zone leaves the provider and its row is removed', async () => {
  const created = await runtime.ok<{ id: string; executionId: string }>('cmd.dns_zone.create', { name: 'gone.org' });
  const providerId = (await runtime.run(created.executionId)).resource?.backendId;
  assert.ok(providerId);
  const deleting = await runtime.ok<{ executionId: string }>('cmd.dns_zone.delete', { id: created.id });
  const run = await runtime.run(deleting.executionId);
  assert.equal(run.execution.status, 'succeeded');
  assert.equal(run.resource, null);
  assert.equal(run.events.at(-1)?.to, null);
  assert.ok(!dns.zones().some((zone) => zone.id === providerId));
  await assert.rejects(dns.getZone(providerId), /does not exist at the provider/);
});
