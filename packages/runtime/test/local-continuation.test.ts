import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Delivery } from '@jetcel/bus';
import { HEADERS } from '@jetcel/contracts';
import { defineTask, setOkTask, silentLogger, TaskRegistry } from '@jetcel/core';
import { queryRows } from '@jetcel/testing';
import { Progress } from '../src/execution/progress.ts';
import { Reconciler } from '../src/reconcile/reconciler.ts';
import { stepLane } from '../src/execution/lane.ts';
import { StepRunner } from '../src/step/runner.ts';
import { useTestDb } from './db-fixture.ts';
import { chainPlan, deliveryOf, scheduleWidgetPlan } from './step-fixture.ts';

// The next step runs where the last one ended: a commit that queues a step due now on this
// worker's queue claims it for this worker, which runs it in the same slot, with no publish.
// A real PostgreSQL, no broker: a delivery is the bytes of the first step's outbox row.

const env = useTestDb({ widgets: true });

const ran: string[] = [];
/** The resource version each step was given. */
const versions: number[] = [];
const noop = defineTask({
  name: 'test.noop',
  async run(ctx) {
    ran.push(ctx.stepId ?? '');
    versions.push(ctx.resource?.version ?? -1);
  },
});
/** Changes the resource in a transaction of its own, as another writer would. */
const bump = defineTask({
  name: 'test.bump',
  async run(ctx) {
    versions.push(ctx.resource?.version ?? -1);
    await env.db.transaction(async (tx) => {
      const current = await tx.resources.get('widget', ctx.resource?.id ?? '-');
      assert.ok(current);
      await tx.resources.applyPatch(current, { runtimeState: 'bumped' }, { executionId: null, actor: null });
    });
  },
});
const registry = new TaskRegistry().register(noop, bump, setOkTask);
const progress = new Progress({ catalog: registry, executors: { get: () => undefined }, logger: silentLogger });

/** Schedules an execution of `steps` no-op steps (then `last`, if named) and returns it with the delivery of its first step. */
async function schedule(
  steps: number,
  last?: string,
  onSuccess?: string,
): Promise<{ executionId: string; resourceId: string; delivery: Delivery }> {
  const scheduled = await scheduleWidgetPlan(env, progress, chainPlan(steps, 'test.noop', last, onSuccess));
  return { executionId: scheduled.executionId, resourceId: scheduled.widgetId, delivery: scheduled.delivery };
}

const runner = (options: { chainLimit?: number; claimTtlMs?: number; worker?: string } = {}) =>
  new StepRunner({
    db: env.db,
    registry,
    services: {},
    logger: silentLogger,
    worker: options.worker ?? 'local',
    queue: 'regular',
    ...options,
  });

async function steps(executionId: string) {
  return queryRows<{ id: string; role: string; status: string; worker: string | null; takeovers: number }>(
    env.database.url,
    'select id, role, status, worker, takeovers from jetcel_step where execution_id = $1 order by queued_at, position',
    [executionId],
  );
}

/** Task messages of the execution still to be published (due now or later). */
async function unpublishedTaskRows(executionId: string) {
  return queryRows<{ id: string; subject: string; payload: string; due_in_ms: number }>(
    env.database.url,
    `select id, subject, payload, extract(epoch from (not_before - now())) * 1000 as due_in_ms from jetcel_outbox
     where subject like 'tasks.regular%' and published_at is null and payload like $1 order by created_at`,
    [`%${executionId}%`],
  );
}

async function executionStatus(executionId: string): Promise<string | undefined> {
  const [row] = await queryRows<{ status: string }>(
    env.database.url,
    'select status from jetcel_execution where id = $1',
    [executionId],
  );
  return row?.status;
}

test('one delivery runs the whole chain in its slot: every next step claimed by the commit, none published', async () => {
  const { executionId, delivery } = await schedule(4);
  ran.length = 0;
  assert.deepEqual(await runner().handle(delivery), { kind: 'ack' });
  assert.equal(await executionStatus(executionId), 'succeeded', 'finished within the one delivery');
  const rows = await steps(executionId);
  assert.equal(rows.length, 5, 'four steps and the success handler');
  assert.ok(
    rows.every((row) => row.status === 'succeeded' && row.worker === 'local'),
    'each ran here',
  );
  assert.equal(ran.length, 5, 'each ran once');
  const pending = await unpublishedTaskRows(executionId);
  // Only the delivered step's own row is there (the relay would have marked it): a local step has none.
  assert.equal(pending.length, 1, 'no message was written for the steps claimed locally');
  assert.ok(pending[0]?.payload.includes(rows[0]?.id ?? '-'), 'the row left is the first step’s');
});

test('the chain limit: after that many steps in a row the next one goes through JetStream', async () => {
  const { executionId, delivery } = await schedule(4);
  assert.deepEqual(await runner({ chainLimit: 2 }).handle(delivery), { kind: 'ack' });
  const rows = await steps(executionId);
  assert.deepEqual(
    rows.map((row) => row.status),
    ['succeeded', 'succeeded', 'queued'],
    'two steps ran in a row, the third waits for its delivery',
  );
  const third = rows[2];
  assert.ok(third);
  const pending = await unpublishedTaskRows(executionId);
  const published = pending.find((row) => row.payload.includes(third.id));
  assert.ok(published, 'the third step has its message');
  assert.ok(published.due_in_ms <= 0, 'due at once, not a fallback');
  assert.equal(await executionStatus(executionId), 'running');
});

test('a worker that dies after its commit claimed the next step loses nothing: the reconciler re-queues and publishes it once the claim expired', async () => {
  // The second step hangs on a runner that never heartbeats: in the database that is a worker
  // that died right after the commit that claimed the step for it.
  let release: () => void = () => undefined;
  const hanging = new Promise<void>((resolve) => {
    release = resolve;
  });
  // Long enough that a loaded machine gets from the commit to the checks below before it expires.
  const claimTtlMs = 2_000;
  const doomed = new StepRunner({
    db: env.db,
    registry: new TaskRegistry().register(noop, defineTask({ name: 'test.second', run: () => hanging })),
    services: {},
    logger: silentLogger,
    worker: 'doomed',
    queue: 'regular',
    claimTtlMs,
    heartbeatMs: 60_000,
  });
  const { executionId, delivery } = await schedule(1, 'test.second');
  const doomedRun = doomed.handle(delivery);
  await waitFor(async () => (await steps(executionId))[1]?.status === 'running');
  const second = (await steps(executionId))[1];
  assert.equal(second?.worker, 'doomed', 'claimed by the commit for the same worker');
  const messageOf = async () =>
    (await unpublishedTaskRows(executionId)).filter((row) => row.payload.includes(second?.id ?? '-'));
  assert.deepEqual(await messageOf(), [], 'no message while it is claimed');
  const reconciler = new Reconciler(env.db, { logger: silentLogger, claimGraceMs: 100 });
  await reconciler.steps();
  assert.equal((await steps(executionId))[1]?.status, 'running', 'a live claim is left alone');
  assert.deepEqual(await messageOf(), []);

  await new Promise((resolve) => setTimeout(resolve, claimTtlMs + 200));
  await reconciler.steps();
  assert.equal((await steps(executionId))[1]?.status, 'queued', 're-queued once its claim expired');
  const [published] = await messageOf();
  assert.ok(published, 'with its message, due now');
  assert.ok(published.due_in_ms <= 0);
  const rescuer = new StepRunner({
    db: env.db,
    registry: new TaskRegistry().register(noop, defineTask({ name: 'test.second', run: async () => undefined })),
    services: {},
    logger: silentLogger,
    worker: 'rescuer',
    queue: 'regular',
  });
  assert.deepEqual(await rescuer.handle(deliveryOf(published.payload)), { kind: 'ack' });
  assert.equal(await executionStatus(executionId), 'succeeded');
  const rows = await steps(executionId);
  assert.equal(rows[1]?.worker, 'rescuer');
  assert.equal(rows[1]?.takeovers, 1, 'taken over from the dead holder');
  // The dead holder's late commit changes nothing.
  release();
  assert.deepEqual(await doomedRun, { kind: 'ack' });
  assert.deepEqual(
    (await steps(executionId)).map((row) => [row.role, row.status]),
    [
      ['main', 'succeeded'],
      ['main', 'succeeded'],
      ['success', 'succeeded'],
    ],
  );
});

test('a step running locally when the worker stops is handed back with its message published now; its delivery is acked', async () => {
  let started: () => void = () => undefined;
  const running = new Promise<void>((resolve) => {
    started = resolve;
  });
  const stopping = new StepRunner({
    db: env.db,
    registry: new TaskRegistry().register(
      noop,
      defineTask({
        name: 'test.second',
        run: (ctx) => {
          started();
          return new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve()));
        },
      }),
    ),
    services: {},
    logger: silentLogger,
    worker: 'stopping',
    queue: 'regular',
  });
  const { executionId, delivery } = await schedule(1, 'test.second');
  const handled = stopping.handle(delivery);
  await running;
  stopping.shutdown();
  assert.deepEqual(await handled, { kind: 'ack' }, 'the delivered step committed: its message is acked');
  const second = (await steps(executionId))[1];
  assert.equal(second?.status, 'queued', 'handed back, not failed');
  const messages = (await unpublishedTaskRows(executionId)).filter((row) => row.payload.includes(second?.id ?? '-'));
  assert.equal(messages.length, 1, 'one message');
  assert.ok((messages[0]?.due_in_ms ?? 1) <= 0, 'published now, not when the claim would have expired');
});

test('lanes: a step with more than 8 plan nodes ahead of it (itself included) takes the long lane; a handler, the short one', () => {
  const plan = chainPlan(20, 'test.noop');
  assert.equal(stepLane(plan, { role: 'main', position: 0 }), 'long');
  assert.equal(stepLane(plan, { role: 'main', position: 11 }), 'long', '9 ahead');
  assert.equal(stepLane(plan, { role: 'main', position: 12 }), 'short', '8 ahead');
  assert.equal(stepLane(plan, { role: 'success', position: 0 }), 'short');
  assert.equal(stepLane(plan, { role: 'main', position: 0 }, 20), 'short', 'the bound is configurable');
});

test('lanes: a long plan’s first step is published on tasks.regular.long, a short plan’s on tasks.regular', async () => {
  assert.equal((await schedule(20)).delivery.subject, 'tasks.regular.long');
  assert.equal((await schedule(8)).delivery.subject, 'tasks.regular');
});

test('lanes: a long-lane slot runs its chain here; past the chain limit the next step goes back to the long lane', async () => {
  const { executionId, delivery } = await schedule(20);
  assert.deepEqual(await runner({ chainLimit: 3 }).handle(delivery), { kind: 'ack' });
  const rows = await steps(executionId);
  assert.deepEqual(
    rows.map((row) => [row.status, row.worker]),
    [
      ['succeeded', 'local'],
      ['succeeded', 'local'],
      ['succeeded', 'local'],
      ['queued', null],
    ],
  );
  const message = (await unpublishedTaskRows(executionId)).find((row) => row.payload.includes(rows[3]?.id ?? '-'));
  assert.equal(message?.subject, 'tasks.regular.long', 'behind other long work, not in front of short executions');
  assert.ok((message?.due_in_ms ?? 1) <= 0, 'due at once');
});

test('lanes: a short-lane slot does not keep a long plan’s next step; it is published on the long lane', async () => {
  const { executionId, delivery } = await schedule(20);
  // e.g. a retried step, re-published on the queue itself
  assert.deepEqual(await runner().handle({ ...delivery, subject: 'tasks.regular' }), { kind: 'ack' });
  const rows = await steps(executionId);
  assert.deepEqual(
    rows.map((row) => [row.status, row.worker]),
    [
      ['succeeded', 'local'],
      ['queued', null],
    ],
  );
  const message = (await unpublishedTaskRows(executionId)).find((row) => row.payload.includes(rows[1]?.id ?? '-'));
  assert.equal(message?.subject, 'tasks.regular.long');
  assert.ok((message?.due_in_ms ?? 1) <= 0, 'due at once, not a fallback');
});

test('lanes: a long-lane slot keeps the chain when few steps remain (a long slot may run short work)', async () => {
  const { executionId, delivery } = await schedule(10);
  assert.equal(delivery.subject, 'tasks.regular.long');
  assert.deepEqual(await runner().handle(delivery), { kind: 'ack' });
  assert.equal(await executionStatus(executionId), 'succeeded', 'all ten and the handler ran in the one slot');
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Counts the worker's resource reads outside a commit and its commits through the stores while `fn` runs. */
async function counted(fn: () => Promise<unknown>): Promise<{ reads: number; storeCommits: number }> {
  const { db } = env;
  const read = db.read.bind(db);
  const group = db.groupTransaction.bind(db);
  const counts = { reads: 0, storeCommits: 0 };
  db.read = (work) => {
    counts.reads++;
    return read(work);
  };
  db.groupTransaction = (work) => {
    counts.storeCommits++;
    return group(work);
  };
  try {
    await fn();
  } finally {
    db.read = read;
    db.groupTransaction = group;
  }
  return counts;
}

test('a chain reads its resource once, and its success handler ends the execution in its one-statement commit', async () => {
  const { executionId, resourceId, delivery } = await schedule(3, undefined, 'jetcel.set_ok');
  versions.length = 0;
  const counts = await counted(() => runner().handle(delivery));
  assert.equal(await executionStatus(executionId), 'succeeded');
  assert.deepEqual(versions, [1, 1, 1], 'every step saw the resource as read once');
  assert.deepEqual(counts, { reads: 0, storeCommits: 0 }, 'read by the claim, no commit through the stores');
  const [widget] = await queryRows<{ state: string; version: number }>(
    env.database.url,
    'select state, version from test_widget where id = $1',
    [resourceId],
  );
  assert.deepEqual(widget, { state: 'OK', version: 2 });
  const events = await queryRows<{ payload: string }>(
    env.database.url,
    "select payload from jetcel_outbox where subject like 'events.%' and payload like $1",
    [`%${executionId}%`],
  );
  assert.equal(events.length, 1, 'the state change has its event');
});

test('the first step message names its resource, which its claim reads; a message without it reads once after the claim', async () => {
  const named = await schedule(2);
  assert.match(named.delivery.headers[HEADERS.resource] ?? '', new RegExp(`^widget:${named.resourceId}$`));
  versions.length = 0;
  assert.deepEqual(await counted(() => runner().handle(named.delivery)), { reads: 0, storeCommits: 0 });
  assert.deepEqual(versions, [1, 1, 1]);
  const older = await schedule(2);
  const { [HEADERS.resource]: _named, ...withoutResource } = older.delivery.headers;
  versions.length = 0;
  const counts = await counted(() => runner().handle({ ...older.delivery, headers: withoutResource }));
  assert.deepEqual(counts, { reads: 1, storeCommits: 0 });
  assert.deepEqual(versions, [1, 1, 1]);
  assert.equal(await executionStatus(older.executionId), 'succeeded');
});

test('a success handler that only sets OK settles in the last step’s commit: its step is written as succeeded, never run', async () => {
  const { executionId, delivery } = await schedule(2, undefined, 'jetcel.set_ok');
  const commits: unknown[] = [];
  const commitStep = env.db.commitStep.bind(env.db);
  env.db.commitStep = (input) => {
    commits.push(input);
    return commitStep(input);
  };
  try {
    await runner().handle(delivery);
  } finally {
    env.db.commitStep = commitStep;
  }
  assert.equal(await executionStatus(executionId), 'succeeded');
  assert.equal(commits.length, 2, 'one commit per main step, none for the handler');
  const rows = await steps(executionId);
  assert.deepEqual(
    rows.map((row) => [row.role, row.status, row.worker]),
    [
      ['main', 'succeeded', 'local'],
      ['main', 'succeeded', 'local'],
      ['success', 'succeeded', 'local'],
    ],
  );
  const rowsLeft = await unpublishedTaskRows(executionId);
  assert.deepEqual(
    rowsLeft.filter((row) => row.payload.includes('jetcel.set_ok') || Number(row.due_in_ms) > 0),
    [],
    'no message for a local step, and none ever for the handler',
  );
});

test('a last step that patches its resource leaves set_ok to run as its own step', async () => {
  const { executionId, resourceId, delivery } = await schedule(1, 'test.bump', 'jetcel.set_ok');
  await runner().handle(delivery);
  assert.equal(await executionStatus(executionId), 'succeeded');
  const rows = await steps(executionId);
  assert.deepEqual(
    rows.map((row) => [row.role, row.status]),
    [
      ['main', 'succeeded'],
      ['main', 'succeeded'],
      ['success', 'succeeded'],
    ],
  );
  const [widget] = await queryRows<{ state: string; runtime_state: string }>(
    env.database.url,
    'select state, runtime_state from test_widget where id = $1',
    [resourceId],
  );
  assert.deepEqual(widget, { state: 'OK', runtime_state: 'bumped' });
});

test('a resource changed by another writer during the chain is read again by the next step', async () => {
  const { executionId, delivery } = await schedule(1, 'test.bump');
  versions.length = 0;
  const counts = await counted(() => runner().handle(delivery));
  assert.equal(await executionStatus(executionId), 'succeeded');
  assert.deepEqual(versions, [1, 1, 2], 'the success handler saw the version the other writer made');
  assert.equal(counts.reads, 1, 'the claim read it first; the step after the other writer reads it again');
});
