import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import type { TestDatabase } from '@jetcel/testing';
import type { Db } from '../src/db.ts';
import { sql } from '../src/sql.ts';
import { setupDb } from './fixture.ts';

// The relay's published mark (m022) is planned once per connection and looks its rows up by key
// at any table size: a generic plan made while the outbox was small used to scan the whole table.

let env: { database: TestDatabase; db: Db; close(): Promise<void> };
before(async () => {
  env = await setupDb();
});
after(async () => {
  await env?.close();
});

async function insertRows(count: number): Promise<string[]> {
  const rows = await env.db.run((em) =>
    sql<{ id: string }>(
      em,
      `insert into jetcel_outbox (id, subject, payload, not_before, lease_until)
         select gen_random_uuid(), 'tasks.regular', '{}', now(), now() + interval '5 s'
         from generate_series(1, ?) g returning id`,
      [count],
    ),
  );
  return rows.map((row) => row.id);
}

test('a published mark marks exactly its rows and ends their lease', async () => {
  const [a = '', b = '', c = ''] = await insertRows(3);
  await env.db.outbox.markPublished([a, c]);
  const rows = await env.db.run((em) =>
    sql<{ id: string; published: boolean; leased: boolean }>(
      em,
      `select id, published_at is not null as published, lease_until is not null as leased
         from jetcel_outbox where id = any(?::uuid[])`,
      [`{${[a, b, c].join(',')}}`],
    ),
  );
  const byId = new Map(rows.map((row) => [row.id, row]));
  assert.deepEqual(byId.get(a), { id: a, published: true, leased: false });
  assert.deepEqual(byId.get(b), { id: b, published: false, leased: true });
  assert.deepEqual(byId.get(c), { id: c, published: true, leased: false });
});

test('the mark is an index scan by key with statistics of a near-empty outbox, its plan cached or not', async () => {
  // statistics that make a scan of the whole table the cheaper plan (as a plain statement shows below)
  await env.db.run((em) => sql(em, 'analyze jetcel_outbox'));
  const client = new pg.Client({ connectionString: env.database.url });
  await client.connect();
  const plans: string[] = [];
  client.on('notice', (notice) => plans.push(String(notice.message)));
  try {
    // auto_explain sends the plan of every statement the function runs to this client
    await client.query(`load 'auto_explain'`);
    await client.query('set auto_explain.log_min_duration = 0');
    await client.query('set auto_explain.log_nested_statements = on');
    await client.query('set auto_explain.log_level = notice');
    // more calls than PostgreSQL's five custom plans before it may settle on a generic one
    for (let call = 0; call < 8; call++) {
      const ids = await insertRows(2);
      await client.query({ name: 'mark', text: 'select jetcel_outbox_mark_published($1::uuid[])', values: [ids] });
    }
    // the control: the same update as a plain statement scans the table
    const ids = await insertRows(2);
    await client.query('update jetcel_outbox set published_at = now() where id = any($1::uuid[])', [ids]);
  } finally {
    await client.end();
  }
  const updates = plans.filter((plan) => plan.includes('Update on jetcel_outbox'));
  assert.equal(updates.length, 9, plans.join('\n---\n'));
  assert.match(updates.at(-1) ?? '', /Seq Scan on jetcel_outbox/, 'the plain statement scans the table');
  for (const plan of updates.slice(0, 8)) {
    assert.match(plan, /Index Scan using jetcel_outbox_pkey/);
    assert.doesNotMatch(plan, /Seq Scan|Bitmap/);
  }
});
