import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createTestDatabase, queryRows, type TestDatabase } from '@jetcel/testing';
import { FRAMEWORK_MIGRATIONS, migrateUp } from '../src/migrate.ts';
import { COMMON_RESOURCE_PROPERTIES } from '../src/entities/resource-entity.ts';
import { COMMON_RESOURCE_COLUMNS_SQL, defineResourceTable } from '../src/resource-table.ts';
import { widgetMigrations } from './fixture.ts';

let database: TestDatabase;

before(async () => {
  database = await createTestDatabase({ prefix: 'db' });
  // test_widget is written by hand (fixture.ts); test_gadget by defineResourceTable, with the same domain column.
  await migrateUp(database.url, [
    FRAMEWORK_MIGRATIONS,
    widgetMigrations,
    {
      name: 'dbtest_table',
      migrations: [
        {
          name: 'm001_gadget',
          up: defineResourceTable('test_gadget', {
            resourceType: 'gadget',
            extraColumns: [`"label" varchar(255) not null`],
          }),
          down: ['drop table "test_gadget"'],
        },
      ],
    },
  ]);
});

after(async () => {
  await database?.drop();
});

const columnsOf = (table: string) =>
  queryRows(
    database.url,
    `select column_name, ordinal_position, data_type, udt_name, character_maximum_length, is_nullable, column_default
     from information_schema.columns where table_name = $1 order by ordinal_position`,
    [table],
  );

test('defineResourceTable writes the same columns as the hand-written resource table', async () => {
  const written = await columnsOf('test_gadget');
  const byHand = await columnsOf('test_widget');
  assert.equal(written.length, COMMON_RESOURCE_COLUMNS_SQL.length + 1);
  assert.deepEqual(written, byHand);
});

test('defineResourceTable keys the table on id and tags it with its resource type', async () => {
  const [primary] = await queryRows(
    database.url,
    `select a.attname as column from pg_index i join pg_attribute a on a.attrelid = i.indrelid and a.attnum = any(i.indkey)
     where i.indrelid = 'test_gadget'::regclass and i.indisprimary`,
  );
  assert.deepEqual(primary, { column: 'id' });
  const [comment] = await queryRows(database.url, `select obj_description('test_gadget'::regclass) as comment`);
  assert.deepEqual(comment, { comment: 'jetcel-resource:gadget' });
});

test('the common columns are the resource entity common properties', () => {
  const columns = COMMON_RESOURCE_COLUMNS_SQL.map((sql) => /^"([a-z_]+)"/.exec(sql)?.[1]);
  const snake = COMMON_RESOURCE_PROPERTIES.map((name) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`));
  assert.deepEqual(columns, snake);
});
