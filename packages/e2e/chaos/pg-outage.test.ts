import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { eventually, startPostgresCluster, type PostgresCluster } from '@jetcel/testing';
import { Stack } from '../test/stack.ts';

// PostgreSQL outage: PostgreSQL goes away (a private cluster this test owns) and comes back. Commands answer
// UNAVAILABLE while it is down; the services carry on afterwards; nothing committed is lost.

let cluster: PostgresCluster;
let stack: Stack;
before(async () => {
  cluster = await startPostgresCluster();
  const admin = new pg.Client({ connectionString: cluster.url });
  await admin.connect();
  await admin.query('create database jetcel_outage');
  await admin.end();
  const url = cluster.url.replace(/\/[^/]*$/, '/jetcel_outage');
  stack = await Stack.start({
    buildDelayMs: 1000,
    database: { name: 'jetcel_outage', url, drop: async () => {}, [Symbol.asyncDispose]: async () => {} },
  });
  await stack.spawn('executor');
  await stack.spawn('worker', { queue: 'regular' });
});
after(async () => {
  await stack?.stop();
  await cluster?.[Symbol.asyncDispose]();
});

test(
  'G4: while PostgreSQL is down commands answer UNAVAILABLE; afterwards work resumes and nothing is lost',
  { timeout: 120_000 },
  async () => {
    const before = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        stack.ok<{ id: string }>('cmd.instance.create', { name: `pg-${i}`, cloudSettingsId: 'default' }),
      ),
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    await stack.pool.end();
    await cluster.stop('fast');
    const reply = await stack.request('cmd.instance.create', { name: 'while-down', cloudSettingsId: 'default' });
    assert.equal(reply.ok ? 'ok' : reply.error.code, 'UNAVAILABLE');
    assert.equal(!reply.ok && reply.error.retryable, true);
    const query = await stack.request('query.instance.list', {});
    assert.equal(query.ok ? 'ok' : query.error.code, 'UNAVAILABLE');
    await new Promise((resolve) => setTimeout(resolve, 5000));
    await cluster.start();
    const fresh = new pg.Pool({ connectionString: stack.database.url, max: 2 });
    try {
      const after = await eventually(
        async () => {
          const answer = await stack.request('cmd.instance.create', {
            name: 'after-restart',
            cloudSettingsId: 'default',
          });
          return answer.ok ? (answer.data as { id: string }) : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 500, message: 'commands are accepted again' },
      );
      for (const { id } of [...before, after]) {
        await eventually(
          async () =>
            (await fresh.query<{ state: string }>('select state from ref_instance where id = $1', [id])).rows[0]
              ?.state === 'OK',
          {
            timeoutMs: 60_000,
            message: `instance ${id} reached OK`,
          },
        );
      }
      // Nothing lost: every row due is published (a parked waiter's timer row may fall due just now: the next sweep takes it).
      await eventually(
        async () => {
          const lost = await fresh.query<{ n: string }>(
            "select count(*) as n from jetcel_outbox where published_at is null and not_before < now() - interval '2 seconds'",
          );
          return Number(lost.rows[0]?.n) === 0;
        },
        { timeoutMs: 15_000, message: 'every due outbox row was published' },
      );
      const twice = await fresh.query(
        "select execution_id from jetcel_step where task = 'instance.create_server' group by execution_id having count(*) > 1",
      );
      assert.equal(twice.rows.length, 0);
    } finally {
      await fresh.end();
    }
  },
);
