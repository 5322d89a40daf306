import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from '../src/sql.ts';
import type { TestDatabase } from '@jetcel/testing';
import type { Db } from '../src/db.ts';
import { RelaxedPool } from '../src/relaxed-pool.ts';
import { setupDb } from './fixture.ts';

// Every connection jetcel opens runs without JIT (see SESSION_OPTIONS): the ORM's pool (its
// transactions and the lean ones) and the plain pools of claims and step commits.

let env: { database: TestDatabase; db: Db; close(): Promise<void> };
before(async () => {
  env = await setupDb();
});
after(async () => {
  await env?.close();
});

const jitOf = (rows: Array<Record<string, unknown>>): unknown => rows[0]?.jit;

test("no JIT on the ORM's pool (its transactions; lean transactions draw from it too)", async () => {
  assert.equal(jitOf(await env.db.run((em) => sql(em, 'show jit'))), 'off');
  assert.equal(jitOf(await env.db.run((em) => em.transactional((inner) => sql(inner, 'show jit')))), 'off');
});

test('no JIT on the plain pools, relaxed or durable; the relaxed one commits asynchronously', async () => {
  for (const durable of [false, true]) {
    const pool = new RelaxedPool(env.database.url, 1, { durable });
    try {
      assert.equal(jitOf(await pool.query('show jit', [])), 'off');
      const [commit] = await pool.query('show synchronous_commit', []);
      assert.equal(commit?.synchronous_commit, durable ? 'on' : 'off');
    } finally {
      await pool.end();
    }
  }
});
