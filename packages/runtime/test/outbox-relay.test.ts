import { test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '@jetcel/core';
import { eventually, queryRows } from '@jetcel/testing';
import { Db, type OutboxRow } from '@jetcel/db';
import { OutboxRelay } from '../src/outbox/relay.ts';
import { useTestDb } from './db-fixture.ts';

const env = useTestDb();

const until = (message: string, check: () => boolean, timeoutMs = 5000) =>
  eventually(async () => check(), { timeoutMs, message });

const rowState = async (id: string) =>
  (
    await queryRows<{ published: boolean; leased: boolean; attempts: number }>(
      env.database.url,
      'select published_at is not null as published, lease_until > now() as leased, attempts from jetcel_outbox where id = $1',
      [id],
    )
  )[0];

/** A started relay that records what it publishes instead of publishing it. */
function recordingRelay(db: Db, sweepMs: number): { relay: OutboxRelay; published: OutboxRow[] } {
  const published: OutboxRow[] = [];
  const relay = new OutboxRelay(db, {
    logger: silentLogger,
    sweepMs,
    publish: async (row) => void published.push(row),
  });
  relay.start();
  return { relay, published };
}

test('F1: a committed row is handed to the relay in memory and published without a claim round, then marked', async () => {
  // A sweep that never comes during the test: only the hand-off can publish.
  const { relay, published } = recordingRelay(env.db, 60_000);
  try {
    await relay.idle();
    const id = await env.db.transaction(async (tx) => tx.outbox.add({ subject: 'tasks.regular', payload: '{"a":1}' }));
    await until('the hand-off', () => published.some((row) => row.id === id));
    await relay.idle();
    const state = await rowState(id);
    assert.equal(state?.published, true, 'marked published');
    assert.equal(state?.attempts, 0, 'never claimed by a relay round');
    const row = published.find((candidate) => candidate.id === id);
    assert.equal(row?.payload, '{"a":1}');
  } finally {
    await relay.stop();
  }
});

test('F1: a rolled-back transaction hands nothing off; a future row waits for its time', async () => {
  const { relay, published } = recordingRelay(env.db, 60_000);
  try {
    await assert.rejects(
      env.db.transaction(async (tx) => {
        tx.outbox.add({ subject: 'tasks.regular', payload: 'rolled back' });
        throw new Error('changed its mind');
      }),
      /changed its mind/,
    );
    const later = await env.db.transaction(async (tx) =>
      tx.outbox.add({ subject: 'tasks.regular', payload: 'later', notBefore: new Date(Date.now() + 400) }),
    );
    await new Promise((resolve) => setTimeout(resolve, 150));
    assert.equal(published.length, 0, 'nothing yet');
    await until('the timer row at its time', () => published.some((row) => row.id === later), 3000);
    assert.ok(!published.some((row) => row.payload === 'rolled back'));
  } finally {
    await relay.stop();
  }
});

test('F2: rows leased to a process that died before publishing are published by another relay once the lease ends', async () => {
  // The "dead" process: its commits lease rows to it (a hand-off listener), but it never publishes them.
  const dead = await Db.connect({ url: env.database.url });
  const leaseMs = 1500;
  dead.onCommit(() => undefined, { handoffLeaseMs: leaseMs });
  const committedAt = Date.now();
  const id = await dead.transaction(async (tx) => tx.outbox.add({ subject: 'tasks.regular', payload: 'orphan' }));
  await dead.close();
  assert.equal((await rowState(id))?.leased, true, 'leased to the dead process');
  const other = await Db.connect({ url: env.database.url });
  const { relay, published } = recordingRelay(other, 100);
  try {
    await new Promise((resolve) => setTimeout(resolve, 300));
    // Only meaningful while the lease surely holds (a loaded machine may take that long to get here).
    if (Date.now() - committedAt < leaseMs)
      assert.ok(!published.some((row) => row.id === id), 'not while the lease holds');
    await until('the sweep after the lease', () => published.some((row) => row.id === id), 5000);
    await relay.idle();
    assert.equal((await rowState(id))?.published, true);
  } finally {
    await relay.stop();
    await other.close();
  }
});
