import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { queryRows, type TestDatabase } from '@jetcel/testing';
import type { Db } from '../src/db.ts';
import type { CommittedOutboxRow } from '../src/outbox-store.ts';
import { setupDb, Widget } from './fixture.ts';

// The outbox on MikroORM's flush events: rows inserted by each flush of the unit of work, handed
// to the commit listeners after the root COMMIT (and seen committed from another connection then).

let env: { database: TestDatabase; db: Db; close(): Promise<void> };
before(async () => {
  env = await setupDb();
});
after(async () => {
  await env?.close();
});

async function committed(ids: string[], widgetId: string): Promise<{ outbox: number; widgets: number }> {
  const [row] = await queryRows<{ outbox: string; widgets: string }>(
    env.database.url,
    `select (select count(*) from jetcel_outbox where id = any($1::uuid[])) as outbox,
            (select count(*) from test_widget where id = $2) as widgets`,
    [ids, widgetId],
  );
  return { outbox: Number(row?.outbox), widgets: Number(row?.widgets) };
}

test('each flush writes the rows added since the last; the listener gets them all once, after COMMIT', async () => {
  const handed: CommittedOutboxRow[][] = [];
  const seenAtHandOff: Array<Promise<{ outbox: number; widgets: number }>> = [];
  const widgetId = randomUUID();
  const stop = env.db.onCommit((rows) => {
    handed.push(rows);
    // Another connection, at the hand-off: everything must be committed already.
    seenAtHandOff.push(
      committed(
        rows.map((row) => row.id),
        widgetId,
      ),
    );
  });
  try {
    await env.db.transaction(async (tx) => {
      tx.entities.create(Widget, { id: widgetId, label: 'flushed' });
      tx.outbox.add({ subject: 'tasks.regular', payload: 'first' });
      await tx.entities.flush();
      tx.outbox.add({ subject: 'tasks.regular', payload: 'second' });
      assert.equal(handed.length, 0, 'nothing handed off before COMMIT');
    });
  } finally {
    stop();
  }
  assert.equal(handed.length, 1, 'one hand-off per transaction');
  assert.deepEqual(
    handed[0]?.map((row) => row.payload),
    ['first', 'second'],
  );
  assert.deepEqual(await seenAtHandOff[0], { outbox: 2, widgets: 1 });
});

test('a throw after a flush rolls back the entities and the outbox rows, and hands nothing off', async () => {
  const handed: CommittedOutboxRow[][] = [];
  const widgetId = randomUUID();
  const ids: string[] = [];
  const stop = env.db.onCommit((rows) => void handed.push(rows));
  try {
    await assert.rejects(
      env.db.transaction(async (tx) => {
        tx.entities.create(Widget, { id: widgetId, label: 'doomed' });
        ids.push(tx.outbox.add({ subject: 'tasks.regular', payload: 'doomed' }));
        await tx.entities.flush();
        throw new Error('changed its mind');
      }),
      /changed its mind/,
    );
  } finally {
    stop();
  }
  assert.equal(handed.length, 0);
  assert.deepEqual(await committed(ids, widgetId), { outbox: 0, widgets: 0 });
});

test('group commits keep their plain insert: each committed work hands off its rows once', async () => {
  const handed: CommittedOutboxRow[][] = [];
  const stop = env.db.onCommit((rows) => void handed.push(rows));
  try {
    const settled = await env.db.transactionBatch([
      async (tx) => tx.outbox.add({ subject: 'tasks.regular', payload: 'kept' }),
      async (tx) => {
        tx.outbox.add({ subject: 'tasks.regular', payload: 'rolled back' });
        throw new Error('this work fails alone');
      },
    ]);
    assert.deepEqual(
      settled.map((result) => result.ok),
      [true, false],
    );
  } finally {
    stop();
  }
  assert.deepEqual(
    handed.map((rows) => rows.map((row) => row.payload)),
    [['kept']],
  );
});
