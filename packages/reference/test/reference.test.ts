import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startCloud } from '@jetcel/cloud';
import { BackendError, buildPlan, isGroup, TransientError, type StepCall } from '@jetcel/core';
import { fakeResource } from '@jetcel/testing-kit';
import { CloudClient } from '../src/cloud-client.ts';
import { DEFAULT_REFERENCE_CONFIG, referenceConfigFromEnv } from '../src/config.ts';
import { createReferenceDomain } from '../src/domain.ts';

let cloud: Awaited<ReturnType<typeof startCloud>>;
before(async () => {
  cloud = await startCloud({ buildDelayMs: 50 });
});
after(async () => {
  await cloud?.close();
});

const instance = fakeResource(
  'instance',
  { name: 'vm', cloudSettingsId: 'default', flavor: 'small' },
  { id: '7f8b5a52-8a58-4a2b-9d2f-1f7cf1f0a001', state: 'CREATION_SCHEDULED' },
);

test('the create plan: begin_creating with the create call, then the poll, then set_ok / instance.set_erred', () => {
  const domain = createReferenceDomain();
  const plan = buildPlan(domain.executors.create, { resource: instance, params: { volumeIds: [] } });
  const steps = plan.steps.filter((node) => !isGroup(node)) as StepCall[];
  assert.equal(steps.length, plan.steps.length);
  assert.deepEqual(
    steps.map((step) => [step.task, step.before?.transition ?? null]),
    [
      ['instance.create_server', 'begin_creating'],
      ['instance.poll_server', null],
    ],
  );
  assert.deepEqual(
    plan.onSuccess.map((call) => call.task),
    ['jetcel.set_ok'],
  );
  assert.deepEqual(
    plan.onFailure.map((call) => call.task),
    ['instance.set_erred'],
  );
  for (const step of steps) assert.ok(domain.tasks.get(step.task), `${step.task} is registered`);
});

test('B8: a create with volumes starts with a fail-fast group of nested volume creates, staggered by config', () => {
  const domain = createReferenceDomain({ ...DEFAULT_REFERENCE_CONFIG, volumeStaggerMs: 500 });
  const plan = buildPlan(domain.executors.create, { resource: instance, params: { volumeIds: ['v1', 'v2'] } });
  const [group] = plan.steps;
  assert.ok(group && isGroup(group));
  assert.equal(group.policy, 'fail_fast');
  assert.deepEqual(
    group.group.map((call) => [call.task, call.resource, call.startDelayMs]),
    [
      ['jetcel.run_executor', 'volume:v1', 0],
      ['jetcel.run_executor', 'volume:v2', 500],
    ],
  );
  for (const executor of Object.values(domain.executors))
    assert.equal(domain.executorRegistry.get(executor.name), executor);
});

test('config from the environment refuses nonsense', () => {
  assert.equal(referenceConfigFromEnv({ INSTANCE_POLL_INTERVAL_MS: '250' }).pollIntervalMs, 250);
  assert.throws(() => referenceConfigFromEnv({ INSTANCE_POLL_INTERVAL_MS: 'soon' }), /INSTANCE_POLL_INTERVAL_MS/);
});

test('the cloud client sends the idempotency key: a repeat returns the same server', async () => {
  const client = new CloudClient(cloud.url);
  const signal = new AbortController().signal;
  const body = { name: 'vm', settingsId: 'default', flavor: 'small' };
  const first = await client.createServer(body, { signal, idempotencyKey: 'exec:step' });
  const second = await client.createServer(body, { signal, idempotencyKey: 'exec:step' });
  assert.equal(second.id, first.id);
  assert.equal((await client.getServer(first.id, { signal })).name, 'vm');
});

test('cloud answers map to final and retryable task errors', async () => {
  const client = new CloudClient(cloud.url);
  const signal = new AbortController().signal;
  const fault = (rule: object) =>
    fetch(`${cloud.url}/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(rule),
    });
  await fault({ op: 'create', mode: 'error', message: 'No valid host', count: 1 });
  await assert.rejects(
    client.createServer({ name: 'a', settingsId: 'default', flavor: 'small' }, { signal, idempotencyKey: 'k1' }),
    (error: unknown) => {
      return error instanceof BackendError && error.userMessage === 'No valid host' && !error.retryable;
    },
  );
  await fault({ op: 'create', mode: 'http500', count: 1 });
  await assert.rejects(
    client.createServer({ name: 'b', settingsId: 'default', flavor: 'small' }, { signal, idempotencyKey: 'k2' }),
    TransientError,
  );
  await assert.rejects(new CloudClient('http://127.0.0.1:1').getServer('x', { signal }), TransientError);
});
