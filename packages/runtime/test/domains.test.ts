import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { builtinTasks, defineExecutor, defineTask, done } from '@jetcel/core';
import { defineRecordEntity, defineResourceEntity } from '@jetcel/db';
import { defineQuery } from '../src/command/commands.ts';
import { ownerReads } from '../src/command/read-policy.ts';
import { defineSchedule } from '../src/beat/schedules.ts';
import { PRUNE_TASK } from '../src/retention/task.ts';
import { watchdogTasks } from '../src/watchdog/tasks.ts';
import { defineDomain, type DomainDefinition } from '../src/domain/definition.ts';
import { composeDomains, refuseFrameworkSubjects } from '../src/domain/compose.ts';
import { configuredDomains, loadDomains } from '../src/domain/load.ts';
import { DomainConfigError } from '../src/domain/errors.ts';

const task = (name: string) => defineTask({ name, run: async () => done() });
const executor = (name: string) =>
  defineExecutor({ name, kind: 'update', resourceType: 'thing', tasks: [], steps: () => [] });
const query = (subject: string) => defineQuery({ subject, input: { parse: () => ({}) }, handle: async () => ({}) });
const resource = (tableName: string, resourceType: string) =>
  defineResourceEntity({ name: `E${tableName}`, tableName, resourceType, properties: () => ({}) });
const retention = { retention: { prune: async () => ({}) } } as never;

const alpha = (): DomainDefinition => ({
  name: 'alpha',
  migrations: [{ name: 'm001', up: ['select 1'], down: [] }],
  entities: [resource('a_thing', 'thing')],
  tasks: [task('alpha.work')],
  executors: [executor('alpha.run')],
  commands: [query('query.alpha.get')],
  schedules: [defineSchedule({ name: 'alpha-tick', task: 'alpha.work', every: 1000 })],
  services: () => ({ alphaClient: 'a' }),
});
const beta = (overrides: Partial<DomainDefinition> = {}): DomainDefinition => ({
  name: 'beta',
  migrations: [{ name: 'm001', up: ['select 2'], down: [] }],
  entities: [
    resource('b_gadget', 'gadget'),
    defineRecordEntity({ name: 'BLookup', tableName: 'b_lookup', properties: () => ({}) }),
  ],
  tasks: [task('beta.work')],
  executors: [executor('beta.run')],
  commands: [query('query.beta.get')],
  services: () => ({ betaClient: 'b' }),
  ...overrides,
});

function conflict(kind: string, name: string, domains: string[]) {
  return (error: unknown) => {
    assert.ok(error instanceof DomainConfigError, String(error));
    assert.equal(error.code, 'DOMAIN_CONFLICT');
    assert.deepEqual(error.details, { kind, name, domains });
    return true;
  };
}

test('two domains side by side: registries merged, built-in tasks once, migrations framework first', () => {
  const composed = composeDomains([alpha(), beta()]);
  assert.deepEqual(composed.names, ['alpha', 'beta']);
  assert.deepEqual(
    composed.migrations.map((set) => set.name),
    ['jetcel', 'alpha', 'beta'],
  );
  const framework = [PRUNE_TASK, ...watchdogTasks.map((t) => t.name)];
  const expected = [...builtinTasks.map((t) => t.name), ...framework, 'alpha.work', 'beta.work'].sort();
  assert.deepEqual(composed.tasks.names(), expected);
  assert.ok(composed.executors.get('alpha.run') && composed.executors.get('beta.run'));
  assert.deepEqual(
    composed.commands.map((c) => c.subject),
    ['query.alpha.get', 'query.beta.get'],
  );
  assert.deepEqual(
    composed.schedules.map((s) => s.name),
    ['set-erred-stuck-resources', 'reset-updating-resources', 'alpha-tick'],
  );
  assert.equal(composed.entities.length, 3);
  assert.deepEqual(Object.keys(composed.services({}, retention)).sort(), ['alphaClient', 'betaClient', 'retention']);
});

test('a duplicate name between domains refuses with DOMAIN_CONFLICT naming both', () => {
  const cases: Array<[Partial<DomainDefinition>, string, string]> = [
    [{ name: 'alpha' }, 'domain', 'alpha'],
    [{ tasks: [task('alpha.work')] }, 'task', 'alpha.work'],
    [{ executors: [executor('alpha.run')] }, 'executor', 'alpha.run'],
    [{ commands: [query('query.alpha.get')] }, 'subject', 'query.alpha.get'],
    [{ schedules: [defineSchedule({ name: 'alpha-tick', task: 'beta.work', every: 1000 })] }, 'schedule', 'alpha-tick'],
    [{ entities: [resource('a_thing', 'other')] }, 'table', 'a_thing'],
    [{ entities: [resource('b_thing', 'thing')] }, 'resource type', 'thing'],
  ];
  for (const [overrides, kind, name] of cases) {
    const second = beta(overrides);
    assert.throws(
      () => composeDomains([alpha(), second]),
      conflict(kind, name, ['domain alpha', `domain ${second.name}`]),
    );
  }
});

test('a domain may not register a built-in task, a framework service or a second read policy', () => {
  assert.throws(
    () => composeDomains([beta({ tasks: [task(PRUNE_TASK)] })]),
    conflict('task', PRUNE_TASK, ['the framework', 'domain beta']),
  );
  assert.throws(
    () =>
      composeDomains([
        beta({ schedules: [defineSchedule({ name: 'set-erred-stuck-resources', task: 'beta.work', every: 1000 })] }),
      ]),
    conflict('schedule', 'set-erred-stuck-resources', ['the framework', 'domain beta']),
  );
  assert.throws(
    () => composeDomains([beta({ services: () => ({ retention: 1 }) })]).services({}, retention),
    conflict('service', 'retention', ['the framework', 'domain beta']),
  );
  assert.throws(
    () => composeDomains([alpha(), beta({ services: () => ({ alphaClient: 1 }) })]).services({}, retention),
    conflict('service', 'alphaClient', ['domain alpha', 'domain beta']),
  );
  const policy = ownerReads('owner');
  assert.equal(composeDomains([{ ...alpha(), readPolicy: policy }, beta()]).readPolicy, policy);
  assert.throws(
    () => composeDomains([{ ...alpha(), readPolicy: policy }, beta({ readPolicy: ownerReads('creator') })]),
    conflict('read policy', 'readPolicy', ['domain alpha', 'domain beta']),
  );
});

test('a domain name must be a lower-case identifier other than jetcel', () => {
  for (const name of ['jetcel', 'Has-Dash', '']) assert.throws(() => defineDomain({ name }), /DOMAIN_INVALID/);
});

const scratch = mkdtempSync(join(tmpdir(), 'jetcel-domains-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

function writeDomain(path: string, name: string): void {
  writeFileSync(
    path,
    `export const jetcelDomain = (env) => ({ name: '${name}', services: () => ({ seen: env.MARK }) });\n`,
  );
}

test('JETCEL_DOMAINS overrides jetcel.config.ts, which overrides the default', async () => {
  const repo = join(scratch, 'repo');
  mkdirSync(join(repo, 'services', 'x'), { recursive: true });
  writeFileSync(join(repo, 'pnpm-workspace.yaml'), '');
  writeDomain(join(repo, 'one.mjs'), 'one');
  writeDomain(join(repo, 'two.mjs'), 'two');
  const cwd = join(repo, 'services', 'x');
  assert.deepEqual(await configuredDomains({ env: {}, cwd }), {
    specifiers: ['@jetcel/reference'],
    base: cwd,
    source: 'default',
  });
  writeFileSync(join(repo, 'jetcel.config.ts'), `export default { domains: ['./one.mjs'] };\n`);
  const fromFile = await loadDomains({ env: { MARK: 'file' }, cwd });
  assert.deepEqual(
    fromFile.map((domain) => [domain.name, domain.services?.({})]),
    [['one', { seen: 'file' }]],
  );
  rmSync(join(repo, 'jetcel.config.ts'));
  writeFileSync(join(repo, 'jetcel.config.js'), `export default { domains: ['./two.mjs'] };\n`);
  assert.deepEqual(
    (await loadDomains({ env: {}, cwd })).map((domain) => domain.name),
    ['two'],
  );
  const fromEnv = await loadDomains({ env: { JETCEL_DOMAINS: ` ${join(repo, 'two.mjs')} , ./one.mjs` }, cwd: repo });
  assert.deepEqual(
    fromEnv.map((domain) => domain.name),
    ['two', 'one'],
  );
});

test('a bundled domain loads from the bundle; a missing or empty one refuses to start', async () => {
  let loaded = 0;
  const bundled = {
    '@jetcel/reference': async () => {
      loaded += 1;
      return { jetcelDomain: { name: 'reference' } };
    },
  };
  const domains = await loadDomains({ env: {}, cwd: scratch, bundled });
  assert.deepEqual([domains.map((d) => d.name), loaded], [['reference'], 1]);
  await assert.rejects(loadDomains({ env: { JETCEL_DOMAINS: '@acme/not-installed' }, cwd: scratch }), (error) => {
    assert.ok(error instanceof DomainConfigError);
    return error.code === 'DOMAIN_NOT_FOUND' && error.details.specifier === '@acme/not-installed';
  });
  writeFileSync(join(scratch, 'empty.mjs'), 'export const other = 1;\n');
  await assert.rejects(
    loadDomains({ env: { JETCEL_DOMAINS: './empty.mjs' }, cwd: scratch }),
    /DOMAIN_INVALID: domain .\/empty.mjs exports no jetcelDomain/,
  );
});

test('a domain command may not take a subject the framework serves', () => {
  const framework = [{ subject: 'query.execution.get' }];
  assert.doesNotThrow(() => refuseFrameworkSubjects([{ subject: 'query.alpha.get' }], framework));
  assert.throws(
    () => refuseFrameworkSubjects([{ subject: 'query.execution.get' }], framework),
    conflict('subject', 'query.execution.get', ['the framework', 'a domain']),
  );
});
