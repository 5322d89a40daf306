import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { applyTopology, connectBus, defineTopology, Leases, type Bus, type Delivery } from '@jetcel/bus';
import { builtinTasks, defineExecutor, defineTask, done, step, TaskRegistry } from '@jetcel/core';
import type { Db } from '@jetcel/db';
import { Progress } from '../src/execution/progress.ts';
import { scheduleExecution } from '../src/execution/schedule.ts';
import { createLogger } from '../src/service/logger.ts';
import { StepRunner } from '../src/step/runner.ts';
import { DEFAULT_THROTTLE_CONFIG, ThrottleGate } from '../src/throttle/slots.ts';
import { setupDb, type TestDb } from './db-fixture.ts';
import { deliveryOf } from './step-fixture.ts';
import { eventually, queryRows, startNats, type NatsServerHandle } from '@jetcel/testing';

// Throttle slots at the step runner, against a real nats-server (the LEASES bucket) and PostgreSQL.
// No relay runs: a waiter's fallback timer is never published, so only a hand-over moves it on.

const KIND = 'slots_test';
let nats: NatsServerHandle;
let bus: Bus;
let testDb: TestDb;
let db: Db;
let running = 0;
let peak = 0;
const gates: Array<() => void> = [];
let holdRuns = false;

/** Per scope, the executions in the order their throttled step started, and the fencing tokens per slot. */
const runs: Array<{ executionId: string | null; slot: string | null; token: number }> = [];

const throttledTask = defineTask<{ ms: number }>({
  name: 'test.throttled',
  async run(ctx, args) {
    runs.push({ executionId: ctx.executionId, slot: ctx.fencingSlot, token: Number(ctx.fencingToken) });
    running += 1;
    peak = Math.max(peak, running);
    try {
      if (holdRuns) await new Promise<void>((resolve) => gates.push(resolve));
      else await new Promise((resolve) => setTimeout(resolve, args.ms));
    } finally {
      running -= 1;
    }
    return done();
  },
});
const registry = new TaskRegistry().register(...builtinTasks, throttledTask);
const executorFor = (scope: string, options: { beginCreating?: boolean } = {}) =>
  defineExecutor<{ ms: number }>({
    name: 'test.throttled_exec',
    kind: 'create',
    resourceType: 'widget',
    throttle: { kind: KIND, scope: () => scope },
    tasks: [throttledTask],
    steps: ({ params }) => [
      step(
        throttledTask,
        { ms: params.ms },
        { throttled: true, ...(options.beginCreating ? { before: { transition: 'begin_creating' } } : {}) },
      ),
    ],
  });
const logger = createLogger({ level: 'error' });

before(async () => {
  nats = await startNats();
  bus = await connectBus({ servers: [nats.url], name: 'throttle-slots-test' });
  await applyTopology(bus, defineTopology({}));
  testDb = await setupDb({ widgets: true });
  db = testDb.db;
});
after(async () => {
  await testDb?.close();
  await bus?.close();
  await nats?.[Symbol.asyncDispose]();
});

/** A worker's step runner with its own throttle gate (and its own KV reads counted). */
async function worker(name: string, limit: number, options: { queue?: 'regular'; leaseTtlMs?: number } = {}) {
  const leases = await Leases.open(bus);
  const gate = new ThrottleGate({
    db,
    leases,
    config: {
      ...DEFAULT_THROTTLE_CONFIG,
      defaultLimit: limit,
      recheckMs: 60_000,
      ...(options.leaseTtlMs ? { leaseTtlMs: options.leaseTtlMs } : {}),
    },
    logger,
  });
  // With its queue, the span's last step commits in one statement that also hands the slot over.
  const queue = options.queue ? { queue: options.queue } : {};
  const runner = new StepRunner({ db, registry, services: {}, logger, worker: name, throttle: gate, ...queue });
  return { runner, leases, gate };
}

/** Schedules a throttled one-step execution; answers its first step's delivery. */
async function schedule(
  scope: string,
  ms = 0,
  options: { beginCreating?: boolean } = {},
): Promise<{ delivery: Delivery; executionId: string; stepId: string; widgetId: string }> {
  const { executionId, widgetId } = await db.transaction(async (tx) => {
    const instance = await tx.resources.insert('widget', { name: 't' }, { executionId: null, actor: null });
    const progress = new Progress({ catalog: registry, executors: { get: () => undefined }, logger });
    const result = await scheduleExecution(tx, progress, executorFor(scope, options), {
      resource: instance,
      params: { ms },
      actor: null,
    });
    if (result.kind !== 'scheduled') throw new Error('not scheduled');
    return { ...result, widgetId: instance.id };
  });
  const [row] = await queryRows<{ payload: string }>(
    testDb.database.url,
    "select payload from jetcel_outbox where subject = 'tasks.regular' and payload like $1",
    [`%${executionId}%`],
  );
  assert.ok(row);
  const stepId = (JSON.parse(row.payload) as { stepId: string }).stepId;
  return { delivery: deliveryOf(row.payload), executionId, stepId, widgetId };
}

/** Two throttled executions scheduled in `scope`, one to hold its slot and one to wait: their steps and records. */
async function holderAndWaiter(scope: string) {
  const holder = await schedule(scope);
  const waiter = await schedule(scope);
  const holderExecution = await db.read((tx) => tx.executions.get(holder.executionId));
  const waiterExecution = await db.read((tx) => tx.executions.get(waiter.executionId));
  assert.ok(holderExecution && waiterExecution);
  return { holder, waiter, throttle: { kind: KIND, scope }, holderExecution, waiterExecution };
}

/** The first row of a query on the test database. */
const firstRow = async <T extends Record<string, unknown>>(text: string, params: unknown[]): Promise<T | undefined> =>
  (await queryRows<T>(testDb.database.url, text, params))[0];

const stepOf = (stepId: string) =>
  firstRow<{ status: string; worker: string | null; claim_token: string | null }>(
    'select status, worker, claim_token from jetcel_step where id = $1',
    [stepId],
  );

/** Whether a step is due now (its fallback timer not ahead of it). */
const stepDue = async (stepId: string) =>
  (await firstRow<{ due: boolean }>('select not_before <= now() as due from jetcel_step where id = $1', [stepId]))?.due;

/** How many task messages of a step are due now in the outbox. */
const messagesDue = async (stepId: string) =>
  (
    await firstRow<{ n: number }>(
      "select count(*)::int as n from jetcel_outbox where subject like 'tasks.%' and payload like '%' || $1 || '%' and not_before <= now()",
      [stepId],
    )
  )?.n ?? 0;

/** The execution holding a one-slot scope's slot on record. */
const slotHolder = async (scope: string) =>
  (
    await firstRow<{ execution_id: string | null }>('select execution_id from jetcel_throttle_slot where scope = $1', [
      scope,
    ])
  )?.execution_id;

test('a newcomer to a full scope parks as a waiter without reading a lease', async () => {
  const scope = `full-${randomUUID()}`;
  holdRuns = true;
  const { runner, leases } = await worker('w-full', 1);
  const holder = await schedule(scope);
  const holding = runner.handle(holder.delivery);
  await eventually(() => gates.length === 1, { message: 'the first execution holds the one slot' });
  leases.reads = 0;
  const newcomer = await schedule(scope);
  assert.deepEqual(await runner.handle(newcomer.delivery), { kind: 'ack' });
  assert.equal(leases.reads, 0, 'no lease was read to learn that the scope is full');
  const waiters = await queryRows<{ execution_id: string }>(
    testDb.database.url,
    'select execution_id from jetcel_throttle_waiter where scope = $1',
    [scope],
  );
  assert.deepEqual(
    waiters.map((row) => row.execution_id),
    [newcomer.executionId],
  );
  holdRuns = false;
  gates.splice(0).forEach((release) => release());
  await holding;
  await eventually(async () => (await stepOf(newcomer.stepId))?.status === 'succeeded', {
    message: 'the waiter ran once the slot was handed to it',
  });
  await runner.idle();
});

test('the commit that ends a span hands its slot to the first waiter and claims its step there', async () => {
  const scope = `handover-${randomUUID()}`;
  const { leases } = await worker('w-commit', 1);
  const gate = new ThrottleGate({
    db,
    leases,
    config: { ...DEFAULT_THROTTLE_CONFIG, defaultLimit: 1, recheckMs: 60_000 },
    logger,
  });
  const { holder, waiter, throttle, holderExecution, waiterExecution } = await holderAndWaiter(scope);
  const admitted = await gate.enter(holderExecution, holder.stepId, throttle, randomUUID());
  assert.equal(admitted.kind, 'admitted');
  if (admitted.kind !== 'admitted') return;
  // The waiter's step is queued, as after its admission found the scope full.
  assert.equal((await gate.enter(waiterExecution, waiter.stepId, throttle, randomUUID())).kind, 'wait');
  const token = randomUUID();
  const claimToken = randomUUID();
  const ended = await db.transaction(async (tx) => {
    const claimed = await tx.steps.claim(holder.stepId, { token, worker: 'w-commit', ttlMs: 30_000 });
    assert.equal(claimed.kind, 'claimed');
    await tx.steps.complete(holder.stepId, token, { status: 'succeeded' });
    const end = await gate.endInCommit(tx, holder.executionId, admitted.lease, {
      token: claimToken,
      worker: 'w-commit',
      claimTtlMs: 30_000,
    });
    // Nothing is visible outside the commit yet: the waiter still waits.
    assert.equal((await stepOf(waiter.stepId))?.status, 'queued');
    return end;
  });
  assert.equal(ended?.kind, 'handed');
  // The same commit took the waiter off the list, claimed its step here and recorded the slot on it.
  assert.deepEqual(await stepOf(waiter.stepId), { status: 'running', worker: 'w-commit', claim_token: claimToken });
  assert.equal(
    (
      await queryRows(testDb.database.url, 'select 1 from jetcel_throttle_waiter where execution_id = $1', [
        waiter.executionId,
      ])
    ).length,
    0,
  );
  assert.equal(await slotHolder(scope), waiter.executionId);
  const recorded = await db.read((tx) => tx.executions.get(waiter.executionId));
  assert.equal(recorded?.lease?.token, claimToken);
  // Then one compare-and-set moves the KV key to it.
  assert.ok(ended);
  const moved = await gate.afterEnd(ended);
  assert.ok(moved && moved.revision > admitted.lease.revision, 'the fencing token went up');
  const [entry] = await leases.occupancy(KIND, scope, 1);
  assert.equal(entry?.holder?.executionId, waiter.executionId);
});

/** The transaction that last wrote each row: the waiter's resource, and the step whose commit ended the span. */
async function writers(
  widgetId: string,
  endingStepId: string,
): Promise<{ widget: string; ending: string; state: string }> {
  const [row] = await queryRows<{ widget: string; ending: string; state: string }>(
    testDb.database.url,
    `select (select xmin::text from test_widget where id = $1) as widget,
            (select xmin::text from jetcel_step where id = $2) as ending,
            (select state from test_widget where id = $1) as state`,
    [widgetId, endingStepId],
  );
  assert.ok(row);
  return row;
}

/**
 * One slot, a holder and two waiters that begin with a transition: the holder's span ends, the
 * first waiter runs (held) and, while it runs, the second waiter's transition is planned. Answers
 * once the first waiter runs; `release` lets it end.
 */
async function twoWaiters(name: string) {
  const scope = `${name}-${randomUUID()}`;
  holdRuns = true;
  const { runner } = await worker(name, 1, { queue: 'regular' });
  const holder = await schedule(scope, 0, { beginCreating: true });
  const first = await schedule(scope, 0, { beginCreating: true });
  const second = await schedule(scope, 0, { beginCreating: true });
  const holding = runner.handle(holder.delivery);
  await eventually(() => gates.length === 1, { message: 'the holder holds the one slot' });
  assert.deepEqual(await runner.handle(first.delivery), { kind: 'ack' });
  assert.deepEqual(await runner.handle(second.delivery), { kind: 'ack' });
  assert.equal((await writers(second.widgetId, second.stepId)).state, 'CREATION_SCHEDULED', 'a waiter is not begun');
  gates.splice(0).forEach((release) => release());
  await holding;
  await eventually(() => gates.length === 1, { message: 'the first waiter runs in the slot handed to it' });
  // Its task runs: the waiters next in line are read meanwhile.
  await new Promise((resolve) => setTimeout(resolve, 200));
  return {
    first,
    second,
    release: async () => {
      holdRuns = false;
      gates.splice(0).forEach((release) => release());
      await eventually(async () => (await stepOf(second.stepId))?.status === 'succeeded', { message: 'all ran' });
      await runner.idle();
    },
  };
}

test('the commit that ends a span applies the first transition planned for its waiter, which starts without a commit of its own', async () => {
  const { first, second, release } = await twoWaiters('w-successor');
  gates.splice(0).forEach((run) => run());
  await eventually(async () => (await stepOf(first.stepId))?.status === 'succeeded', {
    message: 'the first waiter ended',
  });
  await eventually(() => gates.length === 1, { message: 'the second waiter runs in the slot handed to it' });
  const written = await writers(second.widgetId, first.stepId);
  assert.equal(written.state, 'CREATING');
  assert.equal(written.widget, written.ending, 'it began in the commit that ended the span before it');
  const events = await queryRows<{ n: number }>(
    testDb.database.url,
    "select count(*)::int as n from jetcel_outbox where payload like $1 and payload like '%CREATING%'",
    [`%${second.widgetId}%`],
  );
  assert.equal(events[0]?.n, 1, 'one state change event, written by that commit');
  await release();
});

test('a waiter whose resource changed after it was read begins after the hand-over instead', async () => {
  const { first, second, release } = await twoWaiters('w-successor-stale');
  // Someone writes the second waiter's resource while the first runs: the read is now stale.
  await queryRows(testDb.database.url, 'update test_widget set version = version + 1 where id = $1', [second.widgetId]);
  gates.splice(0).forEach((run) => run());
  await eventually(async () => (await stepOf(first.stepId))?.status === 'succeeded', {
    message: 'the first waiter ended',
  });
  await eventually(() => gates.length === 1, { message: 'the second waiter runs in the slot handed to it' });
  const written = await writers(second.widgetId, first.stepId);
  assert.equal(written.state, 'CREATING', 'it began all the same');
  assert.notEqual(written.widget, written.ending, 'in a transaction of its own, after the hand-over');
  await release();
});

test('a burst on two workers: slots handed over without any fallback timer; never above the limit, and the limit reached', async () => {
  const scope = `burst-${randomUUID()}`;
  const limit = 3;
  running = 0;
  peak = 0;
  const workers = [await worker('w-a', limit), await worker('w-b', limit)] as const;
  const executions = await Promise.all(Array.from({ length: 24 }, () => schedule(scope, 20)));
  const started = Date.now();
  await Promise.all(executions.map((execution, i) => workers[i % 2 === 0 ? 0 : 1].runner.handle(execution.delivery)));
  await eventually(
    async () => {
      const rows = await queryRows<{ n: number }>(
        testDb.database.url,
        "select count(*)::int as n from jetcel_step s join jetcel_execution e on e.id = s.execution_id where s.role = 'main' and s.status = 'succeeded' and e.plan->'throttle'->>'scope' = $1",
        [scope],
      );
      return rows[0]?.n === executions.length;
    },
    { timeoutMs: 20_000, message: 'every execution of the burst ran' },
  );
  await Promise.all(workers.map((w) => w.runner.idle()));
  assert.ok(Date.now() - started < 20_000, 'no waiter needed its one-minute fallback timer');
  assert.equal(peak, limit, 'never more runs than the limit, and the limit reached');
});

const succeededIn = async (scope: string) =>
  (
    await firstRow<{ n: number }>(
      "select count(*)::int as n from jetcel_execution where status = 'succeeded' and plan->'throttle'->>'scope' = $1",
      [scope],
    )
  )?.n ?? 0;

test('one-statement span end on two workers: waiters run first come first served, never above the limit, fencing tokens rise per slot', async () => {
  const scope = `one-statement-${randomUUID()}`;
  const limit = 2;
  running = 0;
  peak = 0;
  runs.length = 0;
  holdRuns = true;
  const workers = [
    await worker('w-one-a', limit, { queue: 'regular' }),
    await worker('w-one-b', limit, { queue: 'regular' }),
  ] as const;
  const executions: Array<{ delivery: Delivery; executionId: string; stepId: string }> = [];
  for (let i = 0; i < 12; i++) executions.push(await schedule(scope, 5));
  // The first two take the slots and hold them; the others park one after the other, in this order.
  const handled = executions.slice(0, limit).map((e, i) => workers[i % 2 === 0 ? 0 : 1].runner.handle(e.delivery));
  await eventually(() => gates.length === limit, { message: 'both slots are held' });
  for (const [i, execution] of executions.slice(limit).entries())
    assert.deepEqual(await workers[i % 2 === 0 ? 1 : 0].runner.handle(execution.delivery), { kind: 'ack' });
  // Each waiter's fallback timer was written by the statement that parked it.
  const timers = await queryRows<{ n: number }>(
    testDb.database.url,
    "select count(*)::int as n from jetcel_outbox where published_at is null and not_before > now() + interval '30 seconds' and payload like any($1)",
    [executions.slice(limit).map((e) => `%${e.stepId}%`)],
  );
  assert.equal(timers[0]?.n, executions.length - limit);
  holdRuns = false;
  gates.splice(0).forEach((release) => release());
  await Promise.all(handled);
  await eventually(async () => (await succeededIn(scope)) === executions.length, {
    timeoutMs: 20_000,
    message: 'every execution ran, handed its slot in the commit of the one before it',
  });
  await Promise.all(workers.map((w) => w.runner.idle()));
  assert.equal(peak, limit, 'never more runs than the limit, and the limit reached');
  const order = runs.filter((run) => executions.some((e) => e.executionId === run.executionId));
  // First come, first served: with `limit` slots passed on side by side, a waiter starts at most
  // `limit - 1` places from where it parked (a later one never overtakes a whole round).
  const ran = order.slice(limit).map((run) => run.executionId);
  executions.slice(limit).forEach((e, parked) => {
    const place = ran.indexOf(e.executionId);
    assert.ok(place >= 0 && Math.abs(place - parked) < limit, `waiter ${parked} ran ${place}th: ${ran.join(' ')}`);
  });
  for (const slot of new Set(order.map((run) => run.slot))) {
    const tokens = order.filter((run) => run.slot === slot).map((run) => run.token);
    assert.deepEqual(
      tokens,
      [...tokens].sort((a, b) => a - b),
      `fencing tokens rise on slot ${slot}`,
    );
    assert.equal(new Set(tokens).size, tokens.length);
  }
  // Both workers passed slots on in their commits: nothing waited for a fallback timer (no relay runs).
  const workersRan = await queryRows<{ worker: string }>(
    testDb.database.url,
    "select distinct s.worker from jetcel_step s join jetcel_execution e on e.id = s.execution_id where s.role = 'main' and e.plan->'throttle'->>'scope' = $1",
    [scope],
  );
  assert.deepEqual(workersRan.map((row) => row.worker).sort(), ['w-one-a', 'w-one-b']);
});

test('a holder that dies keeps its slot until its lease TTL, then a newcomer takes it over; the late commit hands nothing on', async () => {
  const scope = `crash-${randomUUID()}`;
  const leaseTtlMs = 1500;
  const { gate } = await worker('w-crash', 1, { leaseTtlMs });
  const throttle = { kind: KIND, scope };
  const dead = await schedule(scope);
  const next = await schedule(scope);
  const deadExecution = await db.read((tx) => tx.executions.get(dead.executionId));
  const nextExecution = await db.read((tx) => tx.executions.get(next.executionId));
  assert.ok(deadExecution && nextExecution);
  const held = await gate.enter(deadExecution, dead.stepId, throttle, randomUUID());
  assert.equal(held.kind, 'admitted');
  if (held.kind !== 'admitted') return;
  // The holder dies here: it never renews nor commits. Its slot stays its own until the TTL.
  const token = randomUUID();
  await db.transaction((tx) => tx.steps.claim(next.stepId, { token, worker: 'w-crash', ttlMs: 30_000 }));
  assert.equal((await gate.enter(nextExecution, next.stepId, throttle, token)).kind, 'wait');
  await new Promise((resolve) => setTimeout(resolve, leaseTtlMs + 300));
  const token2 = randomUUID();
  await db.transaction((tx) => tx.steps.claim(next.stepId, { token: token2, worker: 'w-crash', ttlMs: 30_000 }));
  const taken = await gate.enter(nextExecution, next.stepId, throttle, token2);
  assert.equal(taken.kind, 'admitted', 'the expired slot is taken over');
  if (taken.kind !== 'admitted') return;
  assert.equal(taken.lease.key, held.lease.key);
  assert.ok(taken.lease.revision > held.lease.revision, 'the fencing token went up');
  // The dead holder's late commit finds the slot no longer its own: it hands nothing on.
  const late = await db.transaction((tx) =>
    gate.endInCommit(tx, dead.executionId, held.lease, { token: randomUUID(), worker: 'w-crash', claimTtlMs: 30_000 }),
  );
  assert.equal(late, null);
  assert.equal(await slotHolder(scope), next.executionId);
});

test('reconcile frees the slot of an execution that ended without ending its span and makes the first parked waiter due at once', async () => {
  const scope = `reconcile-${randomUUID()}`;
  const { gate, leases } = await worker('w-reconcile', 1);
  const { holder, waiter, throttle, holderExecution, waiterExecution } = await holderAndWaiter(scope);
  assert.equal((await gate.enter(holderExecution, holder.stepId, throttle, randomUUID())).kind, 'admitted');
  assert.equal((await gate.enter(waiterExecution, waiter.stepId, throttle, randomUUID())).kind, 'wait');
  // Its step queued on a fallback timer a minute away, as after its admission found the scope full.
  await queryRows(
    testDb.database.url,
    "update jetcel_step set not_before = now() + interval '1 minute' where id = $1",
    [waiter.stepId],
  );
  assert.equal(await stepDue(waiter.stepId), false);
  const before = await messagesDue(waiter.stepId);
  // The holder's execution ends without its span's commit (a dead letter, a crash after its handler).
  await queryRows(testDb.database.url, "update jetcel_execution set status = 'failed' where id = $1", [
    holder.executionId,
  ]);
  assert.ok((await gate.reconcile()) >= 1, "the holder's lease released");
  const slots = await queryRows<{ execution_id: string | null }>(
    testDb.database.url,
    'select execution_id from jetcel_throttle_slot where kind = $1 and scope = $2',
    [KIND, scope],
  );
  assert.deepEqual(slots, [{ execution_id: null }], 'the slot is free on record');
  assert.equal(await stepDue(waiter.stepId), true, 'the waiter is due now');
  assert.equal(await messagesDue(waiter.stepId), before + 1, 'with a task message due now');
  assert.ok(
    (await leases.entries()).every((entry) => entry.holder?.executionId !== holder.executionId),
    'no key is the ended holder',
  );
});

test('a span end that hands its slot to a waiter made due for a free slot wakes the next waiter for that slot', async () => {
  const scope = `handed-due-${randomUUID()}`;
  const throttle = { kind: KIND, scope };
  holdRuns = true;
  const { runner, gate } = await worker('w-handed-due', 1, { queue: 'regular' });
  const holder = await schedule(scope);
  const early = await schedule(scope);
  const late = await schedule(scope);
  const holding = runner.handle(holder.delivery);
  await eventually(() => gates.length === 1, { message: 'the holder holds the one slot' });
  // Both park behind it, on fallback timers a minute away.
  assert.deepEqual(await runner.handle(early.delivery), { kind: 'ack' });
  assert.deepEqual(await runner.handle(late.delivery), { kind: 'ack' });
  // A second slot: a wake makes the first waiter due for it, and its message is not delivered yet.
  await db.transaction((tx) => tx.throttle.setLimit(KIND, scope, 2));
  await gate.wake(throttle.kind, throttle.scope);
  assert.equal(await stepDue(early.stepId), true);
  assert.equal(await stepDue(late.stepId), false);
  // The holder's span ends first and hands its slot to that waiter: the second slot is still free.
  gates.splice(0).forEach((release) => release());
  await holding;
  await eventually(() => gates.length === 1, { message: 'the first waiter runs in the slot handed to it' });
  await eventually(async () => (await stepDue(late.stepId)) === true, {
    timeoutMs: 3000,
    message: 'the waiter behind it is made due for the free slot, not left to its fallback timer',
  });
  assert.ok((await messagesDue(late.stepId)) >= 1, 'with a message due now');
  holdRuns = false;
  gates.splice(0).forEach((release) => release());
  await eventually(async () => (await stepOf(late.stepId))?.status === 'succeeded', { message: 'all ran' });
  await runner.idle();
});

test('a span end whose first waiter is claimed by its own delivery meanwhile hands the slot to the next one', async () => {
  const scope = `claimed-meanwhile-${randomUUID()}`;
  const throttle = { kind: KIND, scope };
  const { gate } = await worker('w-claimed-meanwhile', 1);
  const holder = await schedule(scope);
  const first = await schedule(scope);
  const second = await schedule(scope);
  const [holderExecution, firstExecution, secondExecution] = await Promise.all(
    [holder, first, second].map((s) => db.read((tx) => tx.executions.get(s.executionId))),
  );
  assert.ok(holderExecution && firstExecution && secondExecution);
  const admitted = await gate.enter(holderExecution, holder.stepId, throttle, randomUUID());
  assert.ok(admitted.kind === 'admitted');
  assert.equal((await gate.enter(firstExecution, first.stepId, throttle, randomUUID())).kind, 'wait');
  assert.equal((await gate.enter(secondExecution, second.stepId, throttle, randomUUID())).kind, 'wait');
  // The first waiter was made due: its delivery claims its step in a transaction still open when
  // the span ends, so the hand-over reads it queued and then finds it claimed.
  await queryRows(testDb.database.url, 'update jetcel_step set not_before = now() where id = $1', [first.stepId]);
  let commitClaim = () => undefined as void;
  const claimOpen = new Promise<void>((resolve) => (commitClaim = resolve));
  let claimed = () => undefined as void;
  const claimHeld = new Promise<void>((resolve) => (claimed = resolve));
  const claiming = db.transaction(async (tx) => {
    const claim = await tx.steps.claim(first.stepId, { token: randomUUID(), worker: 'w-delivery', ttlMs: 30_000 });
    assert.equal(claim.kind, 'claimed');
    claimed();
    await claimOpen;
  });
  await claimHeld;
  const ending = db.transaction(async (tx) => {
    const token = randomUUID();
    await tx.steps.claim(holder.stepId, { token, worker: 'w-claimed-meanwhile', ttlMs: 30_000 });
    await tx.steps.complete(holder.stepId, token, { status: 'succeeded' });
    return gate.endInCommit(tx, holder.executionId, admitted.lease, {
      token: randomUUID(),
      worker: 'w-claimed-meanwhile',
      claimTtlMs: 30_000,
    });
  });
  await new Promise((resolve) => setTimeout(resolve, 300));
  commitClaim();
  await claiming;
  const ended = await ending;
  assert.equal(ended?.kind, 'handed', 'the slot is not freed while a waiter is ready');
  assert.equal(ended?.kind === 'handed' ? ended.claimed.execution.id : null, second.executionId);
  assert.equal(await slotHolder(scope), second.executionId);
});

test('a span end that hands its slot to a parked waiter wakes nobody, even one whose fallback timer is about to fire', async () => {
  const scope = `handed-parked-${randomUUID()}`;
  holdRuns = true;
  const { runner, gate } = await worker('w-handed-parked', 1, { queue: 'regular' });
  let wakes = 0;
  const wake = gate.wake.bind(gate);
  gate.wake = (kind, scopeId) => {
    wakes += 1;
    return wake(kind, scopeId);
  };
  const holder = await schedule(scope);
  const parked = await schedule(scope);
  const holding = runner.handle(holder.delivery);
  await eventually(() => gates.length === 1, { message: 'the holder holds the one slot' });
  assert.deepEqual(await runner.handle(parked.delivery), { kind: 'ack' });
  // Its fallback 20 s away, a third of the worker's one-minute recheck: still parked when the slot
  // is handed to it, however slow the machine.
  await queryRows(
    testDb.database.url,
    "update jetcel_step set not_before = now() + interval '20 seconds' where id = $1",
    [parked.stepId],
  );
  gates.splice(0).forEach((release) => release());
  await holding;
  await eventually(() => gates.length === 1, { message: 'the parked waiter runs in the slot handed to it' });
  holdRuns = false;
  gates.splice(0).forEach((release) => release());
  await eventually(async () => (await stepOf(parked.stepId))?.status === 'succeeded', { message: 'it ran' });
  await runner.idle();
  assert.equal(wakes, 0, 'no wake: no slot was left free');
});
