import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, queryRows, type TestDatabase } from '@jetcel/testing';
import { Db } from '../src/db.ts';
import { FRAMEWORK_MIGRATIONS, migrateUp } from '../src/migrate.ts';
import { idempotencyPerActor } from '../src/migrations/m008-idempotency-per-actor.ts';

// Idempotency keys belong to an actor, against a real PostgreSQL; and m008 on a table that has rows.
let database: TestDatabase;
let db: Db;
const SUBJECT = 'cmd.widget.create';

before(async () => {
  database = await createTestDatabase({ prefix: 'idem' });
  // Up to the migration before m008, with a key stored the old way (no actor).
  const m008 = FRAMEWORK_MIGRATIONS.migrations.findIndex(
    (migration) => migration.name === 'm008_idempotency_per_actor',
  );
  const beforeActors = { ...FRAMEWORK_MIGRATIONS, migrations: FRAMEWORK_MIGRATIONS.migrations.slice(0, m008) };
  await migrateUp(database.url, [beforeActors]);
  await queryRows(
    database.url,
    `insert into jetcel_idempotency_key (subject, key, request_hash, reply) values ($1, 'legacy', 'h', '{"ok":true}')`,
    [SUBJECT],
  );
  const applied = await migrateUp(database.url, [FRAMEWORK_MIGRATIONS]);
  assert.equal(applied[0], 'jetcel/m008_idempotency_per_actor');
  db = await Db.connect({ url: database.url, entities: [] });
});
after(async () => {
  await db?.close();
  await database?.drop();
});

const begin = (actor: string, key: string, hash: string) =>
  db.transaction((tx) => tx.idempotency.begin(actor, SUBJECT, key, hash));
const complete = (actor: string, key: string, reply: string) =>
  db.transaction((tx) => tx.idempotency.complete(actor, SUBJECT, key, reply));

test('one key name, two actors: two keys; each replays its own reply and conflicts only with its own request', async () => {
  assert.deepEqual(await begin('alice', 'k1', 'same'), { kind: 'new' });
  await complete('alice', 'k1', '{"who":"alice"}');
  // bob, same key and same request: a new key of his own, not alice's reply, not a conflict.
  assert.deepEqual(await begin('bob', 'k1', 'same'), { kind: 'new' });
  await complete('bob', 'k1', '{"who":"bob"}');
  // bob, same key, another request: a conflict with his own key only.
  assert.deepEqual(await begin('bob', 'k1', 'other'), { kind: 'conflict' });
  assert.deepEqual(await begin('alice', 'k1', 'same'), { kind: 'replay', reply: '{"who":"alice"}' });
  assert.deepEqual(await begin('bob', 'k1', 'same'), { kind: 'replay', reply: '{"who":"bob"}' });
  // carol never used k1: whatever she sends under it is new to her.
  assert.deepEqual(await begin('carol', 'k1', 'other'), { kind: 'new' });
});

test('a key stored before m008 (no actor) is replayed to nobody; reverting m008 keeps the oldest row per key', async () => {
  const rows = (sql: string) => queryRows<{ actor: string; key: string }>(database.url, sql);
  assert.deepEqual(await rows(`select actor from jetcel_idempotency_key where key = 'legacy'`), [{ actor: '' }]);
  assert.deepEqual(await begin('alice', 'legacy', 'h'), { kind: 'new' });
  for (const statement of idempotencyPerActor.down) await queryRows(database.url, statement);
  const left = await rows(`select key from jetcel_idempotency_key order by key`);
  assert.deepEqual(
    left.map((row) => row.key),
    ['k1', 'legacy'],
    'one row per (subject, key)',
  );
  for (const statement of idempotencyPerActor.up) await queryRows(database.url, statement);
});
