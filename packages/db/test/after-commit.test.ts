import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { queryRows, type TestDatabase } from '@jetcel/testing';
import type { Db } from '../src/db.ts';
import type { Tx } from '../src/tx.ts';
import { setupDb } from './fixture.ts';

// Tx.afterCommit: work that must see what its transaction wrote, run once it is committed, in every
// kind of transaction, never after a rollback (of the transaction, or of a work's own savepoint).

let env: { database: TestDatabase; db: Db; close(): Promise<void> };
before(async () => {
  env = await setupDb();
});
after(async () => {
  await env?.close();
});

/** Inserts a throttle limit row named `scope`, and registers an after-commit that counts it from outside. */
async function writeAndWatch(tx: Tx, scope: string, seen: Map<string, number>): Promise<void> {
  await tx.throttle.setLimit('after_commit', scope, 1);
  tx.afterCommit((db) => {
    assert.equal(db, env.db, 'called with the database it committed to');
    // Registered before COMMIT; must find the row committed when it runs.
    void queryRows<{ n: number }>(
      env.database.url,
      "select count(*)::int as n from jetcel_throttle_limit where kind = 'after_commit' and scope = $1",
      [scope],
    ).then(([row]) => seen.set(scope, row?.n ?? 0));
  });
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 200));

test('after COMMIT, in every kind of transaction; its writes are visible to the callback', async () => {
  const seen = new Map<string, number>();
  await env.db.transaction((tx) => writeAndWatch(tx, 'orm', seen));
  await env.db.leanTransaction((tx) => writeAndWatch(tx, 'lean', seen));
  await env.db.groupTransaction((tx) => writeAndWatch(tx, 'group', seen));
  await env.db.read((tx) => writeAndWatch(tx, 'read', seen));
  await settle();
  assert.deepEqual(Object.fromEntries(seen), { orm: 1, lean: 1, group: 1, read: 1 });
});

test('never after a rollback: of the transaction, or of a batched work in its own savepoint', async () => {
  const seen = new Map<string, number>();
  for (const run of [env.db.transaction.bind(env.db), env.db.leanTransaction.bind(env.db)]) {
    await assert.rejects(
      run(async (tx) => {
        await writeAndWatch(tx, 'rolled-back', seen);
        throw new Error('refused');
      }),
      /refused/,
    );
  }
  const settled = await env.db.transactionBatch([
    (tx) => writeAndWatch(tx, 'kept', seen),
    async (tx) => {
      await writeAndWatch(tx, 'savepoint', seen);
      throw new Error('refused');
    },
  ]);
  assert.deepEqual(
    settled.map((result) => result.ok),
    [true, false],
  );
  await settle();
  assert.deepEqual(Object.fromEntries(seen), { kept: 1 }, 'only the committed work');
});

test('a callback that throws is logged; the commit still answers', async () => {
  const value = await env.db.leanTransaction(async (tx) => {
    tx.afterCommit(() => {
      throw new Error('callback broke');
    });
    return 'committed';
  });
  assert.equal(value, 'committed');
});
