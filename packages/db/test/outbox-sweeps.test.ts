import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TestDatabase } from '@jetcel/testing';
import type { Db } from '../src/db.ts';
import { sql } from '../src/sql.ts';
import { setupDb } from './fixture.ts';

// The relay's sweeps read the index of unpublished rows by an index scan, which marks the entries
// of rows dead to everyone (published or deleted since), so later sweeps skip them without a visit
// to the table; a bitmap scan marks none, and every sweep paid for every dead row until VACUUM.

let env: { database: TestDatabase; db: Db; close(): Promise<void> };
before(async () => {
  env = await setupDb();
  await env.db.run((em) => sql(em, 'create extension if not exists pageinspect'));
});
after(async () => {
  await env?.close();
});

const INDEX = 'jetcel_outbox_unpublished_index';

/** Entries of the index's leaf pages, and how many of them are marked dead. */
async function indexEntries(): Promise<{ live: number; dead: number }> {
  const [row] = await env.db.run((em) =>
    sql<{ live: number; dead: number }>(
      em,
      `select count(*) filter (where not i.dead)::int as live, count(*) filter (where i.dead)::int as dead
         from generate_series(1, (pg_relation_size('${INDEX}') / current_setting('block_size')::int - 1)::int) blk,
              lateral bt_page_items('${INDEX}', blk) i
        where (bt_page_stats('${INDEX}', blk)).type = 'l'`,
    ),
  );
  return { live: row?.live ?? 0, dead: row?.dead ?? 0 };
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

test('the sweeps mark the index entries of published and deleted rows, and still find the live ones', async () => {
  // 20,000 rows published by an earlier sweep, 20,000 fallback rows deleted by their next step's commit
  // (by key, as the relay's mark and the step commit do: a scan of the index would mark them)
  const published = await insertRows(20_000, -60_000);
  await env.db.outbox.markPublished(published);
  const deleted = await insertRows(20_000, -30_000);
  await env.db.run((em) => sql(em, 'delete from jetcel_outbox where id = any(?::uuid[])', [`{${deleted.join(',')}}`]));
  // live: 3 due now, 2 due in a minute
  await insertRows(3, -1_000);
  await insertRows(2, 60_000);
  const before = await indexEntries();
  assert.equal(before.dead, 0, 'nothing marked yet');
  assert.ok(before.live >= 40_005, `the dead rows' entries are in the index: ${before.live}`);

  const claimed = await env.db.outbox.claimDue(100, 10_000);
  assert.equal(claimed.length, 3);
  const afterClaim = await indexEntries();
  assert.ok(afterClaim.dead >= 40_000, `the claim marked the dead rows' entries: ${JSON.stringify(afterClaim)}`);

  // the claimed rows are leased for 10 s; the two others are due in a minute
  const waitMs = await env.db.outbox.nextDueInMs();
  assert.ok(waitMs !== null && waitMs > 9_000 && waitMs <= 10_000, `next due in ${waitMs} ms`);
  await env.db.outbox.markPublished(claimed.map((row) => row.id));
  const nextMs = await env.db.outbox.nextDueInMs();
  assert.ok(nextMs !== null && nextMs > 55_000 && nextMs <= 60_000, `next due in ${nextMs} ms`);
  assert.deepEqual(await env.db.outbox.claimDue(100, 10_000), []);
});
