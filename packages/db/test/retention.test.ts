import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { queryRows } from '@jetcel/testing';
import { pruneRetention } from '../src/prune-retention.ts';
import type { RetentionPolicy } from '../src/retention-store.ts';
import { setupDb } from './fixture.ts';

// Retention: rows past their retention are pruned in bounded batches; everything else stays.
let env: Awaited<ReturnType<typeof setupDb>>;
before(async () => {
  env = await setupDb();
});
after(async () => {
  await env.close();
});

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const POLICY: RetentionPolicy = {
  outboxMs: HOUR,
  executionsMs: 30 * DAY,
  deadLettersMs: 30 * DAY,
  idempotencyMs: DAY,
  ticksMs: 7 * DAY,
};

const q = <T extends Record<string, unknown> = Record<string, unknown>>(text: string, params: unknown[] = []) =>
  queryRows<T>(env.database.url, text, params);
const ago = (ms: number): string => new Date(Date.now() - ms).toISOString();
const ids = async (table: string): Promise<Set<string>> =>
  new Set((await q<{ id: string }>(`select id from ${table}`)).map((row) => row.id));

async function outbox(publishedAgo: number | null, createdAgo = publishedAgo ?? 0): Promise<string> {
  const id = randomUUID();
  await q(`insert into jetcel_outbox (id, subject, payload, created_at, published_at) values ($1, 'x', '{}', $2, $3)`, [
    id,
    ago(createdAgo),
    publishedAgo === null ? null : ago(publishedAgo),
  ]);
  return id;
}

/** An execution with `steps` steps and one group; `finishedAgo` null means still running. */
async function execution(
  status: string,
  finishedAgo: number | null,
  options: { steps?: number; parentStepId?: string } = {},
): Promise<{ id: string; stepIds: string[] }> {
  const id = randomUUID();
  await q(
    `insert into jetcel_execution (id, executor, resource_type, resource_id, status, plan, created_at, finished_at, parent_step_id)
     values ($1, 'widget.create', 'widget', $2, $3, '{}', $4, $5, $6)`,
    [
      id,
      randomUUID(),
      status,
      ago((finishedAgo ?? 0) + HOUR),
      finishedAgo === null ? null : ago(finishedAgo),
      options.parentStepId ?? null,
    ],
  );
  const stepIds: string[] = [];
  for (let position = 0; position < (options.steps ?? 2); position++) {
    const stepId = randomUUID();
    await q(
      `insert into jetcel_step (id, execution_id, role, position, task, queue, status) values ($1, $2, 'main', $3, 'widget.task', 'regular', 'succeeded')`,
      [stepId, id, position],
    );
    stepIds.push(stepId);
  }
  await q(
    `insert into jetcel_group (id, execution_id, position, policy, size, remaining) values ($1, $2, 0, 'all', 1, 0)`,
    [randomUUID(), id],
  );
  return { id, stepIds };
}

async function deadLetter(createdAgo: number, redrivenAgo: number | null = null): Promise<string> {
  const id = randomUUID();
  await q(
    `insert into jetcel_dead_letter (id, reason, subject, payload, created_at, redriven_at) values ($1, 'test', 'tasks.regular', '{}', $2, $3)`,
    [id, ago(createdAgo), redrivenAgo === null ? null : ago(redrivenAgo)],
  );
  return id;
}

async function idempotencyKey(createdAgo: number): Promise<string> {
  const key = randomUUID();
  await q(
    `insert into jetcel_idempotency_key (subject, key, request_hash, reply, created_at) values ('cmd.widget.create', $1, 'h', '{}', $2)`,
    [key, ago(createdAgo)],
  );
  return key;
}

async function tick(schedule: string, tickAgo: number): Promise<void> {
  const at = ago(tickAgo);
  await q('insert into jetcel_schedule_tick (schedule, tick, created_at) values ($1, $2, $2)', [schedule, at]);
}

test('G6: exactly the rows past their retention are pruned, steps and groups by cascade, with exact counts', async () => {
  const oldPublished = await Promise.all([1, 2, 3].map(() => outbox(2 * HOUR)));
  const newPublished = await outbox(10 * 60_000);
  const oldUnpublished = await outbox(null, 2 * DAY);

  const oldDone = await Promise.all(
    (['succeeded', 'failed', 'cancelled'] as const).map((status) => execution(status, 31 * DAY, { steps: 2 })),
  );
  const recentDone = await execution('succeeded', DAY);
  const oldRunning = await execution('running', null);
  const oldCancelRequested = await execution('cancel_requested', null);
  // A finished parent with a live nested child, and a finished child of a live parent: both stay.
  const parentOfLive = await execution('succeeded', 40 * DAY, { steps: 1 });
  const liveChild = await execution('running', null, { steps: 1, parentStepId: parentOfLive.stepIds[0] });
  const liveParent = await execution('running', null, { steps: 1 });
  const childOfLive = await execution('succeeded', 40 * DAY, { steps: 1, parentStepId: liveParent.stepIds[0] });

  // Dead letters: only one re-driven longer ago than the retention goes; never re-driven ones stay.
  await deadLetter(45 * DAY, 31 * DAY);
  const oldPending = await Promise.all([deadLetter(31 * DAY), deadLetter(45 * DAY)]);
  const recentlyRedriven = await deadLetter(45 * DAY, DAY);
  const newLetter = await deadLetter(DAY);
  await Promise.all([idempotencyKey(25 * HOUR), idempotencyKey(3 * DAY)]);
  const newKey = await idempotencyKey(HOUR);
  await tick('hourly', 9 * DAY);
  await tick('hourly', 8 * DAY);
  await tick('hourly', 30 * 60_000);
  await tick('monthly', 20 * DAY); // its latest tick, however old, stays: beat would publish it again

  const before = await env.db.transaction((tx) => tx.retention.rowCounts());
  assert.deepEqual(before.outbox, { total: 5, unpublished: 1 });
  assert.deepEqual(before.executions.byStatus, {
    running: 3,
    cancel_requested: 1,
    succeeded: 4,
    failed: 1,
    cancelled: 1,
  });
  assert.equal(before.executions.total, 10);
  assert.equal(before.steps, 2 * 3 + 2 + 2 + 2 + 4 * 1);
  assert.deepEqual(
    [before.deadLetters, before.idempotencyKeys, before.scheduleTicks, before.backgroundRuns],
    [5, 3, 4, 0],
  );

  // A batch of 2 makes every kind take several rounds (3 outbox rows, 3 executions...).
  const report = await pruneRetention(env.db, POLICY, { batchSize: 2 });
  assert.equal(report.complete, true);
  assert.equal(report.deadLettersKept, 2, 'dead letters past their retention, never re-driven');
  assert.deepEqual(report.counts, {
    outbox: 3,
    executions: 3,
    steps: 6,
    deadLetters: 1,
    idempotencyKeys: 2,
    scheduleTicks: 2,
  });

  const outboxLeft = await ids('jetcel_outbox');
  assert.deepEqual(outboxLeft, new Set([newPublished, oldUnpublished]));
  assert.ok(oldPublished.every((id) => !outboxLeft.has(id)));

  const executionsLeft = await ids('jetcel_execution');
  const kept = [recentDone, oldRunning, oldCancelRequested, parentOfLive, liveChild, liveParent, childOfLive];
  assert.deepEqual(executionsLeft, new Set(kept.map((entry) => entry.id)));
  const stepsLeft = await q<{ execution_id: string }>('select execution_id from jetcel_step');
  assert.ok(
    stepsLeft.every((row) => executionsLeft.has(row.execution_id)),
    'no orphan steps',
  );
  assert.equal(stepsLeft.length, before.steps - 6);
  const groupsLeft = await q<{ execution_id: string }>('select execution_id from jetcel_group');
  assert.deepEqual(new Set(groupsLeft.map((row) => row.execution_id)), executionsLeft, 'groups went by cascade');
  assert.ok(oldDone.every((entry) => !executionsLeft.has(entry.id)));

  assert.deepEqual(await ids('jetcel_dead_letter'), new Set([...oldPending, recentlyRedriven, newLetter]));
  const keysLeft = await q<{ key: string }>('select key from jetcel_idempotency_key');
  assert.deepEqual(
    keysLeft.map((row) => row.key),
    [newKey],
  );
  const ticksLeft = await q<{ schedule: string }>('select schedule from jetcel_schedule_tick order by schedule');
  assert.deepEqual(
    ticksLeft.map((row) => row.schedule),
    ['hourly', 'monthly'],
  );

  const afterCounts = await env.db.transaction((tx) => tx.retention.rowCounts());
  assert.deepEqual(afterCounts.outbox, { total: 2, unpublished: 1 });
  assert.equal(afterCounts.executions.total, 7);
  assert.deepEqual(
    [afterCounts.steps, afterCounts.deadLetters, afterCounts.idempotencyKeys, afterCounts.scheduleTicks],
    [before.steps - 6, 4, 1, 2],
  );

  const again = await pruneRetention(env.db, POLICY);
  assert.deepEqual(Object.values(again.counts), [0, 0, 0, 0, 0, 0], 'a second run finds nothing');
});

test('G6: the time budget stops between batches and the next run carries on', async () => {
  await Promise.all([1, 2, 3].map(() => outbox(2 * HOUR)));
  const stopped = await pruneRetention(env.db, POLICY, { budgetMs: 0 });
  assert.deepEqual([stopped.complete, stopped.counts.outbox], [false, 0]);
  const resumed = await pruneRetention(env.db, POLICY, { batchSize: 5000 });
  assert.deepEqual([resumed.complete, resumed.counts.outbox], [true, 3]);
});

test('G6: without the dead-letter table, dead letters count as null and are not pruned', async () => {
  await q('alter table jetcel_dead_letter rename to jetcel_dead_letter_away');
  try {
    const counts = await env.db.transaction((tx) => tx.retention.rowCounts());
    assert.equal(counts.deadLetters, null);
    const report = await pruneRetention(env.db, POLICY);
    assert.deepEqual([report.complete, report.counts.deadLetters], [true, 0]);
  } finally {
    await q('alter table jetcel_dead_letter_away rename to jetcel_dead_letter');
  }
});
