import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { referenceMigrations } from '@jetcel/reference';
import { spawnService } from '@jetcel/testing';
import { dataOf, Stack } from '../stack.ts';

// A second domain beside the reference one, by configuration alone: no service's main.ts names it.
const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../../../..');
const notes = resolve(here, '../fixtures/notes-domain.ts');
const clash = resolve(here, '../fixtures/clash-domain.ts');
const withNotes = { JETCEL_DOMAINS: `@jetcel/reference,${notes}` };

let stack: Stack;
before(async () => {
  // The stack's database already has the framework's and the reference domain's migrations:
  // adding the notes domain later applies its own, tracked under its name.
  stack = await Stack.start({ env: withNotes });
  const migrate = await spawnService({
    cwd: resolve(root, 'services/migrate'),
    entry: 'src/main.ts',
    args: ['up'],
    env: stack.env,
  });
  assert.equal(await migrate.exited, 0, migrate.output().join('\n'));
  await stack.spawn('executor');
  await stack.spawn('worker', { queue: 'regular' });
});
after(async () => {
  await stack?.stop();
});

test('the migrate job applies the added domain migrations under its own name, after the others', async () => {
  const applied = await stack.sql<{ name: string }>('select name from notes_migrations order by id');
  assert.deepEqual(
    applied.map((row) => row.name),
    ['m001_notes'],
  );
  const reference = await stack.sql('select name from reference_migrations');
  assert.equal(
    reference.length,
    referenceMigrations.migrations.length,
    'the reference set was already applied and stays as it was',
  );
  const [comment] = await stack.sql(`select obj_description('tst_note'::regclass) as comment`);
  assert.deepEqual(comment, { comment: 'jetcel-resource:note' });
});

test('the second domain command runs its executor through its own task and service', async () => {
  const created = dataOf<{ id: string; executionId: string }>(
    await stack.request('cmd.note.create', { text: 'hello' }),
  );
  const execution = await stack.waitForExecution(created.executionId);
  assert.equal(execution.status, 'succeeded', JSON.stringify(execution));
  assert.deepEqual(
    execution.steps.map((step) => [step.task, step.status]),
    [
      ['note.publish', 'succeeded'],
      ['jetcel.set_ok', 'succeeded'],
    ],
  );
  const note = dataOf<{ state: string; runtimeState: string }>(
    await stack.request('query.note.get', { id: created.id }),
  );
  assert.deepEqual(note, { id: created.id, state: 'OK', runtimeState: 'published:5', text: 'hello' });
});

test('the reference domain keeps working beside it', async () => {
  const created = await stack.readyInstance('beside-notes');
  assert.equal((await stack.instance(created.id)).state, 'OK');
});

test('a domain that repeats another one task name refuses to start with DOMAIN_CONFLICT', async () => {
  for (const service of ['executor', 'worker', 'beat', 'migrate'] as const) {
    const started = await spawnService({
      cwd: resolve(root, 'services', service),
      entry: 'src/main.ts',
      args: service === 'worker' ? ['--queue', 'regular'] : service === 'migrate' ? ['up'] : [],
      env: { ...stack.env, JETCEL_DOMAINS: `@jetcel/reference,${clash}` },
    });
    const code = await started.exited;
    assert.notEqual(code, 0, `${service} must not start`);
    const output = started.output().join('\n');
    assert.match(
      output,
      /DOMAIN_CONFLICT: task "instance\.create_server" is defined by both domain reference and domain clash/,
    );
    assert.doesNotMatch(output, /ready"/);
  }
});
