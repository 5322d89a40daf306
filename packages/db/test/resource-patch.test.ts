import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { TestDatabase } from '@jetcel/testing';
import type { Db } from '../src/db.ts';
import { defineResourceTable } from '../src/resource-table.ts';
import { refreshResourcePatch } from '../src/resource-patch-refresh.ts';
import { sql } from '../src/sql.ts';
import { setupDb } from './fixture.ts';

// A step commit's patch goes through jetcel_patch_resource (m023): a static update per resource
// table the migrate job found, dynamic SQL for any other table or column.

let env: { database: TestDatabase; db: Db; close(): Promise<void> };
before(async () => {
  env = await setupDb();
});
after(async () => {
  await env?.close();
});

interface Row {
  version: number;
  state: string;
  error_message: string;
  error_traceback: string;
  action: string;
  action_details: unknown;
  runtime_state: string;
  backend_id: string | null;
  label: string;
}

async function insertWidget(table = 'test_widget'): Promise<string> {
  const id = randomUUID();
  await env.db.run((em) =>
    sql(
      em,
      `insert into "${table}" (id, label, error_message, runtime_state, backend_id, action_details) values (?, 'w', 'old error', 'ACTIVE', 'b-1', '{"k":1}')`,
      [id],
    ),
  );
  return id;
}

async function patch(table: string, id: string, version: number, set: Record<string, unknown>): Promise<number | null> {
  const [row] = await env.db.run((em) =>
    sql<{ v: number | null }>(em, 'select jetcel_patch_resource(?::jsonb) as v', [
      JSON.stringify({ table, id, version, set }),
    ]),
  );
  return row?.v ?? null;
}

async function read(table: string, id: string): Promise<Row> {
  const [row] = await env.db.run((em) => sql<Row>(em, `select * from "${table}" where id = ?`, [id]));
  assert.ok(row);
  return row;
}

async function functionSource(): Promise<string> {
  const [row] = await env.db.run((em) =>
    sql<{ src: string }>(em, `select prosrc as src from pg_proc where proname = 'jetcel_patch_resource'`),
  );
  return row?.src ?? '';
}

test('the migrate job writes a static update for each resource table it finds', async () => {
  const source = await functionSource();
  assert.match(source, /when 'test_widget' then\s+update "test_widget" t set version = t\.version \+ 1/);
});

test('a static patch writes the columns it names, leaves the others, and bumps the version once', async () => {
  const id = await insertWidget();
  const version = await patch('test_widget', id, 1, {
    state: 'OK',
    error_message: '',
    backend_id: null,
    action_details: { done: true },
  });
  assert.equal(version, 2);
  const row = await read('test_widget', id);
  assert.equal(row.version, 2);
  assert.equal(row.state, 'OK');
  assert.equal(row.error_message, '');
  assert.equal(row.backend_id, null);
  assert.deepEqual(row.action_details, { done: true });
  // not named: unchanged
  assert.equal(row.runtime_state, 'ACTIVE');
  assert.equal(row.error_traceback, '');
  assert.equal(row.label, 'w');
});

test('a patch at another version changes nothing and answers null', async () => {
  const id = await insertWidget();
  assert.equal(await patch('test_widget', id, 7, { state: 'OK' }), null);
  const row = await read('test_widget', id);
  assert.equal(row.version, 1);
  assert.equal(row.state, 'CREATION_SCHEDULED');
});

test('a patch of a domain column goes through dynamic SQL and is applied whole', async () => {
  const id = await insertWidget();
  assert.equal(await patch('test_widget', id, 1, { state: 'OK', label: 'renamed' }), 2);
  const row = await read('test_widget', id);
  assert.equal(row.state, 'OK');
  assert.equal(row.label, 'renamed');
});

test('a resource table made after the last migration run is patched by dynamic SQL, then statically once refreshed', async () => {
  const table = `test_late_${randomUUID().slice(0, 8)}`;
  for (const statement of defineResourceTable(table, {
    resourceType: table,
    extraColumns: ['"label" varchar(255) not null'],
  }))
    await env.db.run((em) => sql(em, statement));
  assert.doesNotMatch(await functionSource(), new RegExp(`when '${table}'`));
  const first = await insertWidget(table);
  assert.equal(await patch(table, first, 1, { state: 'OK', runtime_state: 'SHUTOFF' }), 2);
  assert.equal((await read(table, first)).runtime_state, 'SHUTOFF');

  const tables = await refreshResourcePatch(env.database.url);
  assert.ok(tables?.includes(table) && tables.includes('test_widget'), `patched statically: ${tables?.join(', ')}`);
  assert.match(await functionSource(), new RegExp(`when '${table}' then`));
  const second = await insertWidget(table);
  assert.equal(await patch(table, second, 1, { state: 'ERRED', error_message: 'boom' }), 2);
  const row = await read(table, second);
  assert.equal(row.state, 'ERRED');
  assert.equal(row.error_message, 'boom');
  assert.equal(row.runtime_state, 'ACTIVE');
});
