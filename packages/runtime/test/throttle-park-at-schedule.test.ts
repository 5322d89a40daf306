import { test } from 'node:test';
import assert from 'node:assert/strict';
import { builtinTasks, defineExecutor, ExecutorRegistry, silentLogger, step, TaskRegistry } from '@jetcel/core';
import { eventually, queryRows } from '@jetcel/testing';
import { Progress } from '../src/execution/progress.ts';
import { scheduleExecutions } from '../src/execution/schedule.ts';
import { useTestDb } from './db-fixture.ts';
import { noop } from './widget-executor.ts';

// A burst of executions that start a throttled span: the scheduling statement puts them all on the
// scope's waiting list, and only as many as the scope has room for get a message due now; the rest
// wait for a span's end (or their fallback timer). Real PostgreSQL, no broker.

const env = useTestDb({ widgets: true });
const registry = new TaskRegistry().register(...builtinTasks, noop);

const throttledBuild = (scope: string, limit?: number) =>
  defineExecutor<Record<string, never>>({
    name: `widget.build.${scope}`,
    kind: 'create',
    resourceType: 'widget',
    throttle: { kind: 'widget_build', scope: () => scope, ...(limit === undefined ? {} : { limit }) },
    tasks: [noop],
    steps: () => [step(noop, {}, { throttled: true })],
  });

const context = { executionId: null, actor: null };

/**
 * Schedules `n` builds in one transaction; answers their execution ids in input order. `between`
 * runs after the resources' insert (the transaction's start), `beforeCommit` after the schedule.
 */
async function scheduleBurst(
  executor: ReturnType<typeof throttledBuild>,
  n: number,
  hooks: { between?: () => Promise<unknown>; beforeCommit?: () => Promise<unknown> } = {},
): Promise<string[]> {
  const progress = new Progress({
    catalog: registry,
    executors: new ExecutorRegistry().register(executor),
    logger: silentLogger,
    throttleRecheckMs: 60_000,
  });
  return env.db.transaction(async (tx) => {
    const made = await tx.resources.insertMany(
      'widget',
      Array.from({ length: n }, (_, i) => ({ name: `w${i}` })),
      context,
    );
    await hooks.between?.();
    const results = await scheduleExecutions(
      tx,
      progress,
      executor,
      made.map((resource) => ({ resource, params: {}, actor: null })),
    );
    await hooks.beforeCommit?.();
    return results.flatMap((result) => (result.kind === 'scheduled' ? [result.executionId] : []));
  });
}

/** Whether each execution's (first) step is due now, in `ids` order. */
async function stepsDue(ids: string[]): Promise<boolean[]> {
  const rows = await queryRows<{ execution_id: string; due: boolean }>(
    env.database.url,
    'select execution_id, not_before <= now() as due from jetcel_step where execution_id = any($1)',
    [ids],
  );
  return ids.map((id) => rows.find((row) => row.execution_id === id)?.due ?? false);
}

/** Per execution (in `ids` order): whether its task message is due now, and its place on the waiting list. */
async function placesOf(ids: string[]): Promise<Array<{ due: boolean; waiting: number | null }>> {
  const messages = await queryRows<{ payload: string; due: boolean }>(
    env.database.url,
    "select payload, not_before <= now() + interval '1 second' as due from jetcel_outbox where subject like 'tasks.%'",
  );
  const waiters = await queryRows<{ execution_id: string }>(
    env.database.url,
    'select execution_id from jetcel_throttle_waiter where execution_id = any($1) order by since, execution_id',
    [ids],
  );
  const order = waiters.map((row) => row.execution_id);
  return ids.map((id) => {
    const message = messages.find((row) => row.payload.includes(id));
    assert.ok(message, `a task message for ${id}`);
    const place = order.indexOf(id);
    return { due: message.due, waiting: place < 0 ? null : place };
  });
}

test('a burst beyond the declared limit: all join the waiting list in order, only the first `limit` are due now', async () => {
  const ids = await scheduleBurst(throttledBuild('cloud-a', 3), 7);
  const places = await placesOf(ids);
  assert.deepEqual(
    places.map((place) => place.due),
    [true, true, true, false, false, false, false],
    'as many due as the scope has room for, the rest on their fallback timer',
  );
  assert.deepEqual(
    places.map((place) => place.waiting),
    [0, 1, 2, 3, 4, 5, 6],
    'the waiting list keeps the order of the command',
  );
});

test('room counts the slots on record, the waiters ready ahead and a configured limit over the declared one', async () => {
  const first = await scheduleBurst(throttledBuild('cloud-b', 3), 2);
  assert.deepEqual(
    (await placesOf(first)).map((place) => place.due),
    [true, true],
  );
  // The first of them took a slot; the second still waits, ready: one slot of three is left.
  await queryRows(
    env.database.url,
    "insert into jetcel_throttle_slot (kind, scope, slot, execution_id) values ('widget_build', 'cloud-b', 0, $1)",
    [first[0]],
  );
  await queryRows(env.database.url, 'delete from jetcel_throttle_waiter where execution_id = $1', [first[0]]);
  const second = await scheduleBurst(throttledBuild('cloud-b', 3), 3);
  assert.deepEqual(
    (await placesOf(second)).map((place) => place.due),
    [true, false, false],
  );
  // A configured limit overrides the declared one: 7 slots, one held and four ready waiters ahead.
  await queryRows(
    env.database.url,
    "insert into jetcel_throttle_limit (kind, scope, \"limit\") values ('widget_build', 'cloud-b', 7)",
  );
  const third = await scheduleBurst(throttledBuild('cloud-b', 3), 4);
  assert.deepEqual(
    (await placesOf(third)).map((place) => place.due),
    [true, true, false, false],
  );
});

test('without a limit known at scheduling (none declared, none configured), every newcomer goes to a worker', async () => {
  const ids = await scheduleBurst(throttledBuild('cloud-c'), 4);
  assert.deepEqual(await placesOf(ids), [
    { due: true, waiting: null },
    { due: true, waiting: null },
    { due: true, waiting: null },
    { due: true, waiting: null },
  ]);
});

test('a span that frees its slot while a burst is scheduled: the newcomers it could not see are woken after the commit', async () => {
  // The slot is on record when the schedule reads the scope's room, and freed (by a span end that
  // saw no waiter: the newcomers are not committed yet) before the schedule commits.
  await queryRows(
    env.database.url,
    "insert into jetcel_throttle_slot (kind, scope, slot, execution_id) values ('widget_build', 'cloud-d', 0, gen_random_uuid())",
  );
  const ids = await scheduleBurst(throttledBuild('cloud-d', 1), 2, {
    beforeCommit: () =>
      queryRows(env.database.url, "update jetcel_throttle_slot set execution_id = null where scope = 'cloud-d'"),
  });
  const woken = await eventually(
    async () => {
      const due = await stepsDue(ids);
      return due[0] ? due : null;
    },
    { timeoutMs: 5000, message: 'the first newcomer made due (its fallback timer is a minute away)' },
  );
  assert.deepEqual(woken, [true, false], 'only as many as the scope has room for');
  const messages = await queryRows<{ n: number }>(
    env.database.url,
    "select count(*)::int as n from jetcel_outbox where payload like '%' || $1 || '%' and not_before <= now()",
    [ids[0]],
  );
  assert.equal(messages[0]?.n, 1, 'its task message is due now');
});

test('a newcomer parked ahead of one due now (its transaction began first, committed last) is woken: the scope is not left idle', async () => {
  // The later one reads the room first (empty: due), the earlier one after that committed (one ready
  // waiter: parked), yet the earlier one's place is ahead. The one due would park behind it at its
  // admission, and no span would ever hand either of them the free slot.
  let later: string[] = [];
  const earlier = await scheduleBurst(throttledBuild('cloud-e', 1), 1, {
    between: async () => {
      later = await scheduleBurst(throttledBuild('cloud-e', 1), 1);
    },
  });
  const [first] = await queryRows<{ execution_id: string }>(
    env.database.url,
    "select execution_id from jetcel_throttle_waiter where scope = 'cloud-e' order by since, execution_id limit 1",
  );
  assert.equal(first?.execution_id, earlier[0], 'the earlier transaction is first in line');
  const due = await eventually(
    async () => {
      const [earlierDue, laterDue] = await stepsDue([...earlier, ...later]);
      return earlierDue ? [earlierDue, laterDue] : null;
    },
    { timeoutMs: 5000, message: 'the parked newcomer first in line made due' },
  );
  assert.deepEqual(due, [true, true]);
});
