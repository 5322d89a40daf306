import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TestDatabase } from '@jetcel/testing';
import type { Db } from '../src/db.ts';
import { sql } from '../src/sql.ts';
import { insertFirstStep, oneStepPlan, setupDb } from './fixture.ts';

// The periodic sweeps (the relay's of the outbox, the reconciler's of the steps) read their index
// by an index scan, which marks the entries of rows dead to everyone (published, deleted, or an
// earlier status of a step), so later sweeps skip them without a visit to the table; a bitmap
// scan marks none, and every sweep paid for every dead row until VACUUM.

let env: { database: TestDatabase; db: Db; close(): Promise<void> };
before(async () => {
  env = await setupDb();
  await env.db.run((em) => sql(em, 'create extension if not exists pageinspect'));
});
after(async () => {
  await env?.close();
});

/** Rows the entries of an index's leaf pages point to, and how many of those entries are marked dead. */
async function indexEntries(index: string): Promise<{ live: number; dead: number }> {
  const [row] = await env.db.run((em) =>
    sql<{ live: number; dead: number }>(
      em,
      // a deduplicated entry (a posting list) holds many rows, and is marked once all of them are dead
      `select coalesce(sum(coalesce(cardinality(i.tids), 1)) filter (where not i.dead), 0)::int as live,
              coalesce(sum(coalesce(cardinality(i.tids), 1)) filter (where i.dead), 0)::int as dead
         from generate_series(1, (pg_relation_size('${index}') / current_setting('block_size')::int - 1)::int) blk,
              lateral bt_page_items('${index}', blk) i
        where (bt_page_stats('${index}', blk)).type = 'l'`,
    ),
  );
  return { live: row?.live ?? 0, dead: row?.dead ?? 0 };
}

/**
 * The index's entries once a sweep has marked at least `least` of them, sweeping again while it
 * has not (for up to 20 s): a snapshot held by a transaction of another test running beside this
 * one keeps rows from being dead to everyone until it ends. A bitmap scan never marks any.
 */
async function markedBySweeps(
  index: string,
  least: number,
  sweep: () => Promise<unknown>,
): Promise<{ live: number; dead: number }> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const entries = await indexEntries(index);
    if (entries.dead >= least || Date.now() > deadline) return entries;
    await new Promise((resolve) => setTimeout(resolve, 250));
    await sweep();
  }
}

async function insertRows(count: number, dueInMs: number): Promise<string[]> {
  const rows = await env.db.run((em) =>
    sql<{ id: string }>(
      em,
      `insert into jetcel_outbox (id, subject, payload, not_before)
         select gen_random_uuid(), 'tasks.regular', '{}', now() + (? + g) * interval '1 millisecond'
         from generate_series(1, ?) g returning id`,
      [dueInMs, count],
    ),
  );
  return rows.map((row) => row.id);
}

const OUTBOX_INDEX = 'jetcel_outbox_unpublished_index';

test('the outbox sweeps mark the index entries of published and deleted rows, and still find the live ones', async () => {
  // 20,000 rows published by an earlier sweep, 20,000 fallback rows deleted by their next step's commit
  // (by key, as the relay's mark and the step commit do: a scan of the index would mark them)
  const published = await insertRows(20_000, -60_000);
  await env.db.outbox.markPublished(published);
  const deleted = await insertRows(20_000, -30_000);
  await env.db.run((em) => sql(em, 'delete from jetcel_outbox where id = any(?::uuid[])', [`{${deleted.join(',')}}`]));
  // live: 3 due now, 2 due in a minute
  await insertRows(3, -1_000);
  await insertRows(2, 60_000);
  const before = await indexEntries(OUTBOX_INDEX);
  assert.equal(before.dead, 0, 'nothing marked yet');
  assert.ok(before.live >= 40_005, `the dead rows' entries are in the index: ${before.live}`);

  const claimed = await env.db.outbox.claimDue(100, 10_000);
  assert.equal(claimed.length, 3);
  const afterClaim = await markedBySweeps(OUTBOX_INDEX, 40_000, () => env.db.outbox.claimDue(100, 10_000));
  assert.ok(afterClaim.dead >= 40_000, `the claim marked the dead rows' entries: ${JSON.stringify(afterClaim)}`);

  // the claimed rows are leased for 10 s; the two others are due in a minute
  const waitMs = await env.db.outbox.nextDueInMs();
  assert.ok(waitMs !== null && waitMs > 9_000 && waitMs <= 10_000, `next due in ${waitMs} ms`);
  await env.db.outbox.markPublished(claimed.map((row) => row.id));
  const nextMs = await env.db.outbox.nextDueInMs();
  assert.ok(nextMs !== null && nextMs > 55_000 && nextMs <= 60_000, `next due in ${nextMs} ms`);
  assert.deepEqual(await env.db.outbox.claimDue(100, 10_000), []);
});

test('the step sweeps mark the index entries of earlier statuses, and still find the expired claim', async () => {
  const { executionId, stepId } = await insertFirstStep(env.db, oneStepPlan);
  // 20,000 steps that were queued, then running, then succeeded: two dead entries each
  await env.db.run((em) =>
    sql(
      em,
      `insert into jetcel_step (id, execution_id, role, position, task, queue, not_before)
         select gen_random_uuid(), ?, 'main', g, 'noop', 'regular', now() - interval '10 minutes'
         from generate_series(1, 20000) g`,
      [executionId],
    ),
  );
  for (const status of ['running', 'succeeded'])
    await env.db.run((em) =>
      sql(
        em,
        // a claim time of its own for each row, as steps have
        `update jetcel_step set status = '${status}', claimed_until = now() - interval '1 hour' + position * interval '1 ms'
         where execution_id = ? and position > 0`,
        [executionId],
      ),
    );
  // the first step's holder died a minute ago
  await env.db.run((em) =>
    sql(em, "update jetcel_step set status = 'running', claimed_until = now() - interval '1 minute' where id = ?", [
      stepId,
    ]),
  );
  const index = 'jetcel_step_status_claimed_until_index';
  assert.equal((await indexEntries(index)).dead, 0, 'nothing marked yet');

  const stale = await env.db.transaction((tx) => tx.steps.touchStaleQueued(60_000, 100));
  assert.deepEqual(stale, []);
  const requeued = await env.db.transaction((tx) => tx.steps.requeueExpiredClaims(5_000, 100));
  assert.deepEqual(
    requeued.map((step) => step.id),
    [stepId],
  );
  // 40,001 dead rows; a page the sweep's own update changed after reading it is not marked
  const after = await markedBySweeps(index, 35_000, () =>
    env.db.transaction(async (tx) => {
      await tx.steps.touchStaleQueued(60_000, 100);
      await tx.steps.requeueExpiredClaims(5_000, 100);
    }),
  );
  assert.ok(after.dead >= 35_000, `the sweeps marked the earlier statuses' entries: ${JSON.stringify(after)}`);
});
