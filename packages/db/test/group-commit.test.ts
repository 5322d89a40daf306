import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { GroupCommitter, type BatchWork, type Settled } from '../src/group-commit.ts';
import { setupDb } from './fixture.ts';

let env: Awaited<ReturnType<typeof setupDb>>;
before(async () => {
  env = await setupDb();
});
after(async () => {
  await env.close();
});

const context = { executionId: null, actor: null };
const labels = async (): Promise<string[]> =>
  (await env.db.transaction((tx) => tx.resources.find('widget', {}))).map((row) => row.fields.label as string).sort();

test('a batch commits every work in one transaction; a work that throws rolls back alone', async () => {
  const settled = await env.db.transactionBatch([
    async (tx) => (await tx.resources.insert('widget', { label: 'a' }, context)).id,
    async (tx) => {
      await tx.resources.insert('widget', { label: 'lost' }, context);
      throw new Error('claim lost');
    },
    async (tx) => (await tx.resources.insert('widget', { label: 'b' }, context)).id,
  ]);
  assert.deepEqual(
    settled.map((result) => result.ok),
    [true, false, true],
  );
  assert.deepEqual(await labels(), ['a', 'b']);
  const outbox = await env.db.transaction((tx) => tx.outbox.unpublishedCount());
  assert.equal(outbox, 2, 'the rolled-back work left no event row behind');
});

test('concurrent group transactions share commits and each gets its own result or error', async () => {
  const results = await Promise.allSettled(
    Array.from({ length: 12 }, (_, i) =>
      env.db.groupTransaction(async (tx) => {
        if (i === 5) throw new Error('five fails');
        await tx.resources.insert('widget', { label: `g${i}` }, context);
        return i;
      }),
    ),
  );
  assert.deepEqual(
    results.map((result) => (result.status === 'fulfilled' ? result.value : 'rejected')),
    [0, 1, 2, 3, 4, 'rejected', 6, 7, 8, 9, 10, 11],
  );
  const all = await labels();
  assert.equal(all.filter((label) => label.startsWith('g')).length, 11);
});

test('batching: works queued while others commit share one batch; a failed batch retries each alone', async () => {
  const batches: number[] = [];
  let failNext = true;
  const committer = new GroupCommitter(
    async <T>(work: BatchWork<T>) => work(undefined as never),
    async (works): Promise<Settled[]> => {
      batches.push(works.length);
      if (failNext) {
        failNext = false;
        throw new Error('deadlock detected');
      }
      return Promise.all(works.map(async (work) => ({ ok: true as const, value: await work(undefined as never) })));
    },
    { concurrency: 1, maxBatch: 8 },
  );
  const values = await Promise.all(Array.from({ length: 10 }, (_, i) => committer.run(async () => i)));
  assert.deepEqual(values, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  // The first work starts alone; the next 8 queue behind it and form one batch (which fails and is
  // retried alone); the last one forms its own.
  assert.deepEqual(batches, [8]);
});
