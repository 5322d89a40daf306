import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { queryRows, type TestDatabase } from '@jetcel/testing';
import type { Db } from '../src/db.ts';
import type { CommittedOutboxRow } from '../src/outbox-store.ts';
import { NoUnitOfWorkError } from '../src/tx.ts';
import { LeanConnection, type FormatSql } from '../src/lean-transaction.ts';
import pg from 'pg';
import { setupDb, Widget } from './fixture.ts';

// Lean transactions: the stores on a plain connection, BEGIN in the first statement's round trip,
// atomic as any transaction, outbox rows handed off only after COMMIT.

let env: { database: TestDatabase; db: Db; close(): Promise<void> };
before(async () => {
  env = await setupDb();
});
after(async () => {
  await env?.close();
});

const context = { executionId: null, actor: null };

/** Runs `fn` on a connection of its own (closed after), with the entity manager's formatting. */
async function onOwnConnection(fn: (client: pg.Client, format: FormatSql) => Promise<void>): Promise<void> {
  const client = new pg.Client({ connectionString: env.database.url });
  await client.connect();
  try {
    await fn(client, (text, params) => env.db.orm.em.getPlatform().formatQuery(text, params));
  } finally {
    await client.end();
  }
}

/** `client`, with the text of every query it sends noted in `sent`. */
function counted(client: pg.Client, sent: string[]): pg.Client {
  const query = client.query.bind(client);
  return Object.assign(Object.create(client) as pg.Client, {
    query: (config: { text: string } | string) => {
      sent.push(typeof config === 'string' ? config : config.text);
      return query(config as never);
    },
  });
}

async function counts(widgetIds: string[], outboxIds: string[]): Promise<{ widgets: number; outbox: number }> {
  const [row] = await queryRows<{ widgets: string; outbox: string }>(
    env.database.url,
    `select (select count(*) from test_widget where id = any($1::uuid[])) as widgets,
            (select count(*) from jetcel_outbox where id = any($2::uuid[])) as outbox`,
    [widgetIds, outboxIds],
  );
  return { widgets: Number(row?.widgets), outbox: Number(row?.outbox) };
}

test('a lean transaction commits its writes and hands its outbox rows off after COMMIT', async () => {
  const handed: CommittedOutboxRow[][] = [];
  const seenAtHandOff: Array<Promise<{ widgets: number; outbox: number }>> = [];
  let widgetId = '';
  const stop = env.db.onCommit((rows) => {
    handed.push(rows);
    seenAtHandOff.push(
      counts(
        [widgetId],
        rows.map((row) => row.id),
      ),
    );
  });
  try {
    const snapshot = await env.db.leanTransaction(async (tx) => {
      const inserted = await tx.resources.insert('widget', { label: 'lean' }, context);
      widgetId = inserted.id;
      tx.outbox.add({ subject: 'tasks.regular', payload: 'lean' });
      assert.equal(handed.length, 0, 'nothing handed off before COMMIT');
      return inserted;
    });
    // As the entity's own insert returns it: defaults and types as the ORM transaction's.
    assert.equal(snapshot.state, 'CREATION_SCHEDULED');
    assert.equal(snapshot.version, 1);
    assert.equal(snapshot.fields.label, 'lean');
    const read = await env.db.read((tx) => tx.resources.get('widget', widgetId));
    assert.deepEqual(read, snapshot);
  } finally {
    stop();
  }
  assert.equal(handed.length, 1);
  // The resource's first event and the row added by hand, both committed when handed off.
  assert.deepEqual(handed[0]?.map((row) => row.payload).includes('lean'), true);
  assert.deepEqual(await seenAtHandOff[0], { widgets: 1, outbox: handed[0]?.length });
});

test('a failing statement rolls back the whole lean transaction, its first statement too, and hands nothing off', async () => {
  const handed: CommittedOutboxRow[][] = [];
  const stop = env.db.onCommit((rows) => handed.push(rows));
  const widgetId = randomUUID();
  try {
    await assert.rejects(
      env.db.leanTransaction(async (tx) => {
        await tx.resources.insert('widget', { label: 'first' }, context, widgetId);
        // The same key again: the second statement fails.
        await tx.resources.insert('widget', { label: 'second' }, context, widgetId);
      }),
    );
  } finally {
    stop();
  }
  assert.deepEqual(await counts([widgetId], []), { widgets: 0, outbox: 0 });
  assert.equal(handed.length, 0);
  // The connection went back clean: the next lean transaction works.
  const next = await env.db.leanTransaction((tx) => tx.resources.insert('widget', { label: 'after' }, context));
  assert.equal((await counts([next.id], [])).widgets, 1);
});

test('an error thrown by the work rolls back what it wrote', async () => {
  const widgetId = randomUUID();
  await assert.rejects(
    env.db.leanTransaction(async (tx) => {
      await tx.resources.insert('widget', { label: 'thrown' }, context, widgetId);
      throw new Error('handler failed');
    }),
    /handler failed/,
  );
  assert.deepEqual(await counts([widgetId], []), { widgets: 0, outbox: 0 });
});

test('BEGIN rides in the first statement: one query for both, and one transaction from there to COMMIT', async () => {
  await onOwnConnection(async (client, format) => {
    const sent: string[] = [];
    const counting = counted(client, sent);
    const connection = new LeanConnection(counting, format);
    const first = (await connection.execute('select txid_current()::text as id, ? as given', ['a?b'])) as Array<{
      id: string;
      given: string;
    }>;
    const second = (await connection.execute('select txid_current()::text as id', [])) as Array<{ id: string }>;
    await connection.commit();
    assert.equal(first[0]?.given, 'a?b', 'values are inlined as the entity manager inlines them');
    assert.equal(first[0]?.id, second[0]?.id, 'both statements in one transaction');
    assert.equal(sent.length, 3, 'begin and the first statement, the second, commit');
    assert.match(sent[0] ?? '', /^begin; select txid_current/);
    assert.equal(sent[2], 'commit');
  });
});

test('a prelude runs after BEGIN in the same round trip: relaxed durability for that transaction only', async () => {
  await onOwnConnection(async (client, format) => {
    const relaxed = new LeanConnection(client, format, ['set local synchronous_commit = off']);
    const inside = (await relaxed.execute("select current_setting('synchronous_commit') as s", [])) as Array<{
      s: string;
    }>;
    await relaxed.commit();
    const after = await client.query<{ s: string }>("select current_setting('synchronous_commit') as s");
    assert.equal(inside[0]?.s, 'off');
    assert.equal(after.rows[0]?.s, 'on', 'set local ends with its transaction');
  });
});

test('a deferred statement rides with the next one, or with COMMIT; its failure fails the commit and nothing is written', async () => {
  await onOwnConnection(async (client, format) => {
    const sent: string[] = [];
    const counting = counted(client, sent);
    const [first, second] = [randomUUID(), randomUUID()];
    const insert = 'insert into test_widget (id, label) values (?, ?)';
    const ok = new LeanConnection(counting, format);
    ok.defer(insert, [first, 'deferred']);
    const seen = (await ok.execute('select count(*)::int as n from test_widget where id = ?', [first])) as Array<{
      n: number;
    }>;
    ok.defer(insert, [second, 'with commit']);
    await ok.commit();
    assert.equal(seen[0]?.n, 1, 'the next statement sees the deferred one');
    assert.equal(sent.length, 2, 'no round trip of their own');
    assert.match(sent[1] ?? '', /^insert into test_widget .*; commit$/);
    assert.equal((await counts([first, second], [])).widgets, 2);

    const third = randomUUID();
    const failing = new LeanConnection(counting, format);
    await failing.execute(insert, [third, 'before']);
    failing.defer(insert, [first, 'duplicate key']);
    await assert.rejects(failing.commit());
    assert.equal(await failing.rollback(), true);
    assert.equal((await counts([third], [])).widgets, 0, 'the failed commit wrote nothing');
  });
});

test('a lean transaction has no unit of work: entities are refused with a typed error, nothing commits', async () => {
  const widgetId = randomUUID();
  await assert.rejects(
    env.db.leanTransaction(async (tx) => {
      await tx.resources.insert('widget', { label: 'refused' }, context, widgetId);
      tx.entities.create(Widget, { id: randomUUID(), label: 'entity' });
    }),
    (error: unknown) => error instanceof NoUnitOfWorkError && error.code === 'NO_UNIT_OF_WORK',
  );
  assert.deepEqual(await counts([widgetId], []), { widgets: 0, outbox: 0 });
});
