import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { HEADERS, MAX_COMMAND_BYTES, type Reply } from '@jetcel/contracts';
import { builtinTasks, defineTask, done, silentLogger, TaskRegistry, ValidationError } from '@jetcel/core';
import { queryRows } from '@jetcel/testing';
import { defineCommand, defineQuery, type CommandDefinition } from '../src/command/commands.ts';
import { CommandDispatcher } from '../src/command/dispatcher.ts';
import { frameworkQueries } from '../src/command/framework-queries.ts';
import { useTestDb } from './db-fixture.ts';
import { noop, widgetCreate } from './widget-executor.ts';

// The dispatcher on a real PostgreSQL: every reply code it owns, idempotency keys, and one
// transaction per command (the rows, the execution, its step and outbox row, or nothing at all).

const env = useTestDb({ widgets: true });

const sweep = defineTask({ name: 'test.sweep', queue: 'background', run: async () => done(undefined) });
const catalog = new TaskRegistry().register(...builtinTasks, noop, sweep);
const create = defineCommand({
  subject: 'cmd.widget.create',
  input: z.strictObject({ name: z.string().min(1).max(63), fail: z.boolean().optional() }),
  async handle(ctx, input) {
    const widget = await ctx.resources.insert('widget', { name: input.name }, { executionId: null, actor: ctx.actor });
    const scheduled = await ctx.schedule(widgetCreate, widget, {});
    // Everything above is written: a throw now must leave none of it behind.
    if (input.fail) throw new ValidationError('refused after writing');
    return { id: widget.id, executionId: scheduled.kind === 'scheduled' ? scheduled.executionId : null };
  },
});
// The same handler in a lean transaction; and a lean one that reaches for the unit of work.
const createLean = defineCommand({ ...create, subject: 'cmd.widget.create_lean', lean: true });
const entitiesLean = defineCommand({
  subject: 'cmd.widget.entities_lean',
  input: z.strictObject({ name: z.string() }),
  lean: true,
  async handle(ctx, input) {
    await ctx.resources.insert('widget', { name: input.name }, { executionId: null, actor: ctx.actor });
    return ctx.em.find('Widget', {});
  },
});
const context = defineQuery({
  subject: 'query.widget.context',
  input: z.strictObject({}),
  async handle(ctx) {
    return {
      keys: Object.keys(ctx).sort(),
      resources: Object.keys(ctx.resources).sort(),
      records: Object.keys(ctx.records).sort(),
      actor: ctx.actor,
      settings: await ctx.records.exists('test_widget_settings', 'default'),
    };
  },
});

const enqueue = defineCommand({
  subject: 'cmd.widget.sweep',
  input: z.strictObject({ fail: z.boolean().optional() }),
  async handle(ctx, input) {
    const first = await ctx.enqueue({ task: 'test.sweep' });
    const second = await ctx.enqueue({ task: 'test.sweep' });
    if (input.fail) throw new ValidationError('refused after enqueueing');
    return { first: first.kind, second: second.kind };
  },
});

function dispatcher(options: { backlogLimit?: number } = {}): CommandDispatcher {
  return new CommandDispatcher({
    db: env.db,
    catalog,
    logger: silentLogger,
    commands: [create, createLean, entitiesLean, context, enqueue, ...frameworkQueries()] as Array<
      CommandDefinition<never>
    >,
    ...options,
  });
}

async function send(
  subject: string,
  body: unknown,
  headers: Record<string, string> = {},
  target = dispatcher(),
): Promise<Reply<Record<string, unknown>>> {
  const data = body instanceof Uint8Array ? body : Buffer.from(JSON.stringify(body));
  return JSON.parse(await target.handle({ subject, data, headers })) as Reply<Record<string, unknown>>;
}

function codeOf(reply: Reply<unknown>): string {
  return reply.ok ? 'OK' : reply.error.code;
}

async function count(table: string, where = 'true', params: unknown[] = []): Promise<number> {
  const [row] = await queryRows<{ n: string }>(
    env.database.url,
    `select count(*) as n from ${table} where ${where}`,
    params,
  );
  return Number(row?.n ?? 0);
}

test('a command writes its rows, its execution, the first step and its outbox row in one transaction', async () => {
  const reply = await send('cmd.widget.create', { name: 'one' }, { [HEADERS.actor]: 'alice' });
  assert.ok(reply.ok, JSON.stringify(reply));
  const { id, executionId } = reply.data as { id: string; executionId: string };
  assert.equal(await count('test_widget', 'id = $1 and name = $2', [id, 'one']), 1);
  assert.equal(await count('jetcel_execution', "id = $1 and actor = 'alice' and status = 'running'", [executionId]), 1);
  assert.equal(await count('jetcel_step', 'execution_id = $1', [executionId]), 1);
  assert.equal(await count('jetcel_outbox', "subject = 'tasks.regular' and payload like $1", [`%${executionId}%`]), 1);
});

test('a command that throws after writing leaves nothing: no row, no execution, no step, no outbox row', async () => {
  const before = await Promise.all(
    ['test_widget', 'jetcel_execution', 'jetcel_step', 'jetcel_outbox'].map((t) => count(t)),
  );
  const reply = await send('cmd.widget.create', { name: 'doomed', fail: true });
  assert.equal(codeOf(reply), 'VALIDATION_FAILED');
  assert.equal(await count('test_widget', "name = 'doomed'"), 0);
  const after = await Promise.all(
    ['test_widget', 'jetcel_execution', 'jetcel_step', 'jetcel_outbox'].map((t) => count(t)),
  );
  assert.deepEqual(after, before);
});

test('a lean command commits the same rows, leaves nothing when it throws, and replays its Idempotency-Key', async () => {
  const reply = await send('cmd.widget.create_lean', { name: 'lean' }, { [HEADERS.actor]: 'alice' });
  assert.ok(reply.ok, JSON.stringify(reply));
  const { id, executionId } = reply.data as { id: string; executionId: string };
  assert.equal(await count('test_widget', 'id = $1', [id]), 1);
  assert.equal(await count('jetcel_execution', "id = $1 and actor = 'alice'", [executionId]), 1);
  assert.equal(await count('jetcel_step', 'execution_id = $1', [executionId]), 1);
  assert.equal(await count('jetcel_outbox', 'payload like $1', [`%${executionId}%`]), 1);
  const failed = await send('cmd.widget.create_lean', { name: 'lean-doomed', fail: true });
  assert.equal(codeOf(failed), 'VALIDATION_FAILED');
  assert.equal(await count('test_widget', "name = 'lean-doomed'"), 0);
  const keyed = { [HEADERS.idempotencyKey]: 'lean-key-1' };
  const first = await send('cmd.widget.create_lean', { name: 'lean-once' }, keyed);
  const again = await send('cmd.widget.create_lean', { name: 'lean-once' }, keyed);
  assert.deepEqual(again, first);
  assert.equal(await count('test_widget', "name = 'lean-once'"), 1);
});

test('a lean command that uses ctx.em fails and writes nothing', async () => {
  const reply = await send('cmd.widget.entities_lean', { name: 'lean-em' });
  assert.ok(!reply.ok);
  assert.equal(await count('test_widget', "name = 'lean-em'"), 0);
});

test('requests that cannot be served get their stable codes before any handler runs', async () => {
  assert.equal(codeOf(await send('cmd.widget.nope', {})), 'UNKNOWN_SUBJECT');
  assert.equal(codeOf(await send('cmd.widget.create', Buffer.from('{"name":'))), 'VALIDATION_FAILED');
  const unknownField = await send('cmd.widget.create', { name: 'x', colour: 'red' });
  assert.equal(codeOf(unknownField), 'VALIDATION_FAILED');
  assert.ok(!unknownField.ok && Array.isArray(unknownField.error.details), 'zod issues are the details');
  const nul = await send('cmd.widget.create', { name: 'a\u0000b' });
  assert.equal(codeOf(nul), 'VALIDATION_FAILED');
  assert.match(nul.ok ? '' : nul.error.message, /NUL/);
  let deep: unknown = 'x';
  for (let i = 0; i < 100; i++) deep = [deep];
  assert.equal(codeOf(await send('cmd.widget.create', { name: 'deep', deep })), 'VALIDATION_FAILED');
  const big = Buffer.alloc(MAX_COMMAND_BYTES + 1, 32);
  assert.equal(codeOf(await send('cmd.widget.create', big)), 'PAYLOAD_TOO_LARGE');
  assert.equal(
    codeOf(await send('cmd.widget.create', { name: 'x' }, { [HEADERS.idempotencyKey]: 'bad key' })),
    'VALIDATION_FAILED',
  );
  assert.equal(
    codeOf(await send('cmd.widget.create', { name: 'x' }, { [HEADERS.authorization]: 'Bearer nonsense' })),
    'UNAUTHENTICATED',
  );
  assert.equal(await count('test_widget', "name in ('x', 'deep')"), 0);
});

test('an Idempotency-Key replays the first reply, refuses another body, and is per actor', async () => {
  const key = { [HEADERS.idempotencyKey]: 'create-twice', [HEADERS.actor]: 'bob' };
  const first = await send('cmd.widget.create', { name: 'twice' }, key);
  const again = await send('cmd.widget.create', { name: 'twice' }, key);
  assert.ok(first.ok);
  assert.deepEqual(again, first);
  assert.equal(await count('test_widget', "name = 'twice'"), 1);
  assert.equal(codeOf(await send('cmd.widget.create', { name: 'other' }, key)), 'IDEMPOTENCY_CONFLICT');
  const carol = await send('cmd.widget.create', { name: 'twice' }, { ...key, [HEADERS.actor]: 'carol' });
  assert.ok(carol.ok);
  assert.notDeepEqual(carol.data, first.data);
  assert.equal(await count('test_widget', "name = 'twice'"), 2);
});

test('a failed command stores no idempotent reply: the same key runs again', async () => {
  const key = { [HEADERS.idempotencyKey]: 'fails-first' };
  assert.equal(codeOf(await send('cmd.widget.create', { name: 'retry', fail: true }, key)), 'VALIDATION_FAILED');
  assert.equal(codeOf(await send('cmd.widget.create', { name: 'retry', fail: true }, key)), 'VALIDATION_FAILED');
  assert.equal(await count('jetcel_idempotency_key', "key = 'fails-first'"), 0);
});

test("a handler's context holds the domain's resources and records, not the framework's stores", async () => {
  await queryRows(env.database.url, "insert into test_widget_settings (id) values ('default')");
  const reply = await send('query.widget.context', {}, { [HEADERS.actor]: 'dana' });
  assert.ok(reply.ok, JSON.stringify(reply));
  assert.deepEqual(reply.data, {
    keys: [
      'actor',
      'authorize',
      'cancel',
      'em',
      'enqueue',
      'identity',
      'read',
      'records',
      'resources',
      'schedule',
      'scheduleMany',
      'subject',
    ],
    resources: ['applyPatch', 'countByState', 'find', 'get', 'insert', 'insertMany', 'list'],
    records: ['exists', 'get', 'insert'],
    actor: 'dana',
    settings: true,
  });
});

test("the framework's own queries still read their stores through the same dispatcher", async () => {
  const created = await send('cmd.widget.create', { name: 'seen' }, { [HEADERS.actor]: 'erin' });
  assert.ok(created.ok);
  const { executionId } = created.data as { executionId: string };
  const view = await send('query.execution.get', { id: executionId }, { [HEADERS.actor]: 'erin' });
  assert.ok(view.ok, JSON.stringify(view));
  assert.equal(view.data.id, executionId);
  assert.equal((view.data.steps as unknown[]).length, 1);
});

test('cmd.execution.cancel cancels through the context: queued steps cancelled, the failure handler queued', async () => {
  const created = await send('cmd.widget.create', { name: 'cancelled' }, { [HEADERS.actor]: 'fred' });
  assert.ok(created.ok);
  const { executionId } = created.data as { executionId: string };
  assert.equal(codeOf(await send('cmd.execution.cancel', { id: executionId }, { [HEADERS.actor]: 'fred' })), 'OK');
  const steps = await queryRows<{ role: string; status: string }>(
    env.database.url,
    'select role, status from jetcel_step where execution_id = $1 order by queued_at, role',
    [executionId],
  );
  assert.deepEqual(
    steps.map((step) => `${step.role} ${step.status}`),
    ['main cancelled', 'failure queued'],
  );
  assert.equal(await count('jetcel_execution', "id = $1 and status = 'cancel_requested'", [executionId]), 1);
});

test('a command queues a background task in its transaction: once while an equal run is queued, never if it fails', async () => {
  assert.equal(codeOf(await send('cmd.widget.sweep', { fail: true })), 'VALIDATION_FAILED');
  assert.equal(await count('jetcel_background_run', "task = 'test.sweep'"), 0);
  const reply = await send('cmd.widget.sweep', {});
  assert.deepEqual(reply, { ok: true, data: { first: 'queued', second: 'skipped' } });
  assert.equal(await count('jetcel_background_run', "task = 'test.sweep'"), 1);
  assert.equal(await count('jetcel_outbox', "subject = 'tasks.background' and payload like '%test.sweep%'"), 1);
});

test('past the backlog limit of unpublished task messages, commands answer UNAVAILABLE and queries still work', async () => {
  assert.ok((await count('jetcel_outbox', 'published_at is null')) > 0, 'earlier tests left rows unpublished');
  const full = dispatcher({ backlogLimit: 0 });
  const refused = await send('cmd.widget.create', { name: 'late' }, {}, full);
  assert.equal(codeOf(refused), 'UNAVAILABLE');
  assert.ok(!refused.ok && refused.error.retryable);
  assert.equal(codeOf(await send('query.widget.context', {}, {}, full)), 'OK');
  assert.equal(await count('test_widget', "name = 'late'"), 0);
});
