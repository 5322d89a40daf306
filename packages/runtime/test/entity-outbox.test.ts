import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import type { Reply } from '@jetcel/contracts';
import { applyTopology, connectBus, defineTopology, subscribeCore, type Bus, type CoreMessage } from '@jetcel/bus';
import { FrameworkEntityError } from '@jetcel/db';
import { builtinTasks, silentLogger, TaskRegistry } from '@jetcel/core';
import { eventually, queryRows, startNats, type NatsServerHandle } from '@jetcel/testing';
import { defineCommand, type CommandDefinition } from '../src/command/commands.ts';
import { CommandDispatcher } from '../src/command/dispatcher.ts';
import type { OutboxRelay } from '../src/outbox/relay.ts';
import { startRelay } from '../src/outbox/start-relay.ts';
import { serviceConfigFromEnv } from '../src/service/config.ts';
import { setupDb, Widget, WidgetNote, type TestDb } from './db-fixture.ts';
import { noop, widgetCreate } from './widget-executor.ts';

// A command's own entities (through ctx.em) and the executions it schedules, on real PostgreSQL and
// NATS: the outbox rows join the unit of work at flush and are published after COMMIT, or never.

let env: TestDb;
let nats: NatsServerHandle;
let bus: Bus;
let relay: OutboxRelay;
const published: CoreMessage[] = [];

before(async () => {
  env = await setupDb({ widgets: true });
  nats = await startNats();
  bus = await connectBus({ servers: nats.url, name: 'entity-outbox-test' });
  await applyTopology(bus, defineTopology(serviceConfigFromEnv({}).topology));
  subscribeCore(bus, 'tasks.>', (message) => void published.push(message));
  // No sweep during the test: only the after-commit hand-off publishes.
  relay = startRelay({ bus, db: env.db, logger: silentLogger, sweepMs: 60_000, claimGraceMs: 60_000 });
});
after(async () => {
  await relay?.stop();
  await bus?.close();
  await nats?.[Symbol.asyncDispose]();
  await env?.close();
});

const catalog = new TaskRegistry().register(...builtinTasks, noop);

/** Held open by the command between its last write and COMMIT, until the test lets it go. */
let gate: { reached: () => void; release: Promise<void> } | null = null;

const create = defineCommand({
  subject: 'cmd.widget.create',
  input: z.strictObject({ name: z.string(), note: z.string(), fail: z.boolean().optional() }),
  async handle(ctx, input) {
    const widget = await ctx.resources.insert('widget', { name: input.name }, { executionId: null, actor: ctx.actor });
    // The domain's own entities, as MikroORM users write them: create, flush (still uncommitted).
    ctx.em.create(WidgetNote, { id: randomUUID(), widgetId: widget.id, text: `${input.note} (before)` });
    await ctx.em.flush();
    assert.equal(await ctx.em.count(WidgetNote, { widgetId: widget.id }), 1, 'read back in the same transaction');
    const scheduled = await ctx.schedule(widgetCreate, widget, {});
    ctx.em.persist(ctx.em.create(WidgetNote, { id: randomUUID(), widgetId: widget.id, text: `${input.note} (after)` }));
    // This flush writes the second note and the execution's outbox row, inside the open transaction.
    await ctx.em.flush();
    if (gate) {
      gate.reached();
      await gate.release;
    }
    if (input.fail) throw new Error('changed its mind after writing');
    return { id: widget.id, executionId: scheduled.kind === 'scheduled' ? scheduled.executionId : null };
  },
});

const reachOutbox = defineCommand({
  subject: 'cmd.widget.reach-outbox',
  input: z.strictObject({}),
  async handle(ctx) {
    return { rows: await ctx.em.count('Outbox', {}) };
  },
});

async function send(subject: string, body: unknown): Promise<Reply<Record<string, unknown>>> {
  const dispatcher = new CommandDispatcher({
    db: env.db,
    catalog,
    logger: silentLogger,
    commands: [create, reachOutbox] as Array<CommandDefinition<never>>,
  });
  const reply = await dispatcher.handle({ subject, data: Buffer.from(JSON.stringify(body)), headers: {} });
  return JSON.parse(reply) as Reply<Record<string, unknown>>;
}

async function count(table: string, where: string, params: unknown[]): Promise<number> {
  const [row] = await queryRows<{ n: string }>(
    env.database.url,
    `select count(*) as n from ${table} where ${where}`,
    params,
  );
  return Number(row?.n ?? 0);
}

const publishedFor = (executionId: string) =>
  published.filter((message) => new TextDecoder().decode(message.data).includes(executionId));

test("a command's entity changes and the execution it schedules commit together, published after COMMIT", async () => {
  let reached!: () => void;
  const atCommit = new Promise<void>((resolve) => (reached = resolve));
  let release!: () => void;
  gate = { reached, release: new Promise<void>((resolve) => (release = resolve)) };
  const before = published.length;
  const replied = send('cmd.widget.create', { name: 'together', note: 'first' });
  try {
    await atCommit;
    // Everything is written and flushed, nothing is committed: nobody sees it, nothing is published.
    await sleep(300);
    assert.equal(published.length, before, 'nothing published before COMMIT');
    assert.equal(await count('test_widget', 'name = $1', ['together']), 0);
    assert.equal(await count('jetcel_outbox', 'true', []), 0);
    // ...yet the outbox row is written: the open transaction holds the lock of its insert.
    assert.equal(
      await count(
        'pg_locks l join pg_class c on c.oid = l.relation',
        "c.relname = 'jetcel_outbox' and l.mode = 'RowExclusiveLock'",
        [],
      ),
      1,
    );
  } finally {
    gate = null;
    release();
  }
  const reply = await replied;
  assert.ok(reply.ok, JSON.stringify(reply));
  const { id, executionId } = reply.data as { id: string; executionId: string };
  assert.equal(await count('test_widget', 'id = $1', [id]), 1);
  assert.equal(await count('test_widget_note', "widget_id = $1 and text like 'first (%'", [id]), 2);
  assert.equal(await count('jetcel_execution', "id = $1 and status = 'running'", [executionId]), 1);
  await eventually(async () => publishedFor(executionId).length === 1, {
    timeoutMs: 5000,
    message: 'the first step published after COMMIT',
  });
  const [message] = publishedFor(executionId);
  assert.equal(message?.subject, 'tasks.regular');
  const msgId = message?.headers['Nats-Msg-Id'];
  assert.ok(msgId, 'published with the outbox row id as its message id');
  await eventually(async () => (await count('jetcel_outbox', 'id = $1 and published_at is not null', [msgId])) === 1, {
    timeoutMs: 5000,
    message: 'the outbox row marked published',
  });
});

test('a command that throws after its flushes leaves no entity row, no execution, no outbox row, nothing published', async () => {
  const outboxBefore = await count('jetcel_outbox', 'true', []);
  const executionsBefore = await count('jetcel_execution', 'true', []);
  const publishedBefore = published.length;
  const reply = await send('cmd.widget.create', { name: 'doomed', note: 'never', fail: true });
  assert.equal(reply.ok, false);
  assert.equal(await count('test_widget', 'name = $1', ['doomed']), 0);
  assert.equal(await count('test_widget_note', "text like 'never%'", []), 0);
  assert.equal(await count('jetcel_execution', 'true', []), executionsBefore);
  assert.equal(await count('jetcel_outbox', 'true', []), outboxBefore);
  await sleep(300);
  assert.equal(published.length, publishedBefore, 'nothing published');
});

test("a command's entity manager refuses jetcel's own tables, by name, schema or entity", async () => {
  const reply = await send('cmd.widget.reach-outbox', {});
  assert.equal(reply.ok ? 'OK' : reply.error.code, 'INTERNAL');
  await assert.rejects(
    env.db.transaction((tx) => tx.entities.find('Execution', {})),
    (error: unknown) => error instanceof FrameworkEntityError && error.code === 'FRAMEWORK_ENTITY',
  );
  const [row] = await queryRows<{ id: string }>(env.database.url, 'select id from jetcel_outbox limit 1', []);
  assert.ok(row, 'an outbox row from the first test');
  await assert.rejects(
    env.db.read(async (tx) => {
      const anything = await tx.entities.findOne(Widget, { name: 'together' });
      assert.ok(anything, 'a domain entity is found');
      tx.entities.remove(tx.entities.getReference('Outbox', row.id));
    }),
    FrameworkEntityError,
  );
});
