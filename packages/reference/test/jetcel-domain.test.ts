import assert from 'node:assert/strict';
import { test } from 'node:test';
import { composeDomains, watchdogSchedules } from '@jetcel/runtime';
import { createReferenceDomain } from '../src/domain.ts';
import { jetcelDomain } from '../src/jetcel-domain.ts';
import { referenceMigrations } from '../src/migrations.ts';

test('the reference domain loaded by configuration runs what the reference registries hold', () => {
  const composed = composeDomains([jetcelDomain({})]);
  const direct = createReferenceDomain();
  assert.deepEqual(composed.tasks.names(), direct.tasks.names());
  for (const executor of Object.values(direct.executors))
    assert.equal(composed.executors.get(executor.name)?.name, executor.name);
  assert.deepEqual(
    composed.commands.map((command) => command.subject),
    direct.commands.map((command) => command.subject),
  );
  assert.deepEqual(
    composed.schedules.map((schedule) => schedule.name),
    // The framework's watchdogs first, over every registered resource type.
    [...watchdogSchedules(), ...direct.schedules].map((schedule) => schedule.name),
  );
  assert.equal(composed.readPolicy, direct.readPolicy);
  // Tracked under the same name as before, so existing databases see nothing new to apply.
  assert.deepEqual(composed.migrations[1], referenceMigrations);
});

test('the reference domain reads its settings and its cloud from the environment', () => {
  const domain = jetcelDomain({ CLOUD_PORT: '9999', BEAT_LIST_PULL_EVERY_MS: '5000' });
  assert.equal(domain.schedules?.find((schedule) => schedule.name === 'instance-list-pull')?.every, 5000);
  assert.deepEqual(domain.devProcesses?.[0]?.env, { CLOUD_PORT: '9999' });
  assert.match(domain.devProcesses?.[0]?.command.at(-1) ?? '', /services\/cloud\/src\/main\.ts$/);
  const services = domain.services?.({ CLOUD_URL: 'http://cloud.example:1' });
  assert.ok(services && 'cloud' in services);
});
