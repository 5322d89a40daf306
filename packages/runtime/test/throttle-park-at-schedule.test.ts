import { test } from 'node:test';
import assert from 'node:assert/strict';
import { builtinTasks, defineExecutor, ExecutorRegistry, silentLogger, step, TaskRegistry } from '@jetcel/core';
import { queryRows } from '@jetcel/testing';
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

/** Schedules `n` builds in one transaction; answers their execution ids in input order. */
async function scheduleBurst(executor: ReturnType<typeof throttledBuild>, n: number): Promise<string[]> {
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
    const results = await scheduleExecutions(
      tx,
      progress,
      executor,
      made.map((resource) => ({ resource, params: {}, actor: null })),
    );
    return results.flatMap((result) => (result.kind === 'scheduled' ? [result.executionId] : []));
  });
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
