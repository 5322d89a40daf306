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

const throttledTask = defineTask<{ ms: number }>({
  name: 'test.throttled',
  async run(_ctx, args) {
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
const executorFor = (scope: string) =>
  defineExecutor<{ ms: number }>({
    name: 'test.throttled_exec',
    kind: 'create',
    resourceType: 'widget',
    throttle: { kind: KIND, scope: () => scope },
    tasks: [throttledTask],
    steps: ({ params }) => [step(throttledTask, { ms: params.ms }, { throttled: true })],
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
async function worker(name: string, limit: number) {
  const leases = await Leases.open(bus);
  const gate = new ThrottleGate({
    db,
    leases,
    config: { ...DEFAULT_THROTTLE_CONFIG, defaultLimit: limit, recheckMs: 60_000 },
    logger,
  });
  const runner = new StepRunner({ db, registry, services: {}, logger, worker: name, throttle: gate });
  return { runner, leases };
}

/** Schedules a throttled one-step execution; answers its first step's delivery. */
async function schedule(scope: string, ms = 0): Promise<{ delivery: Delivery; executionId: string; stepId: string }> {
  const { executionId } = await db.transaction(async (tx) => {
    const instance = await tx.resources.insert('widget', { name: 't' }, { executionId: null, actor: null });
    const progress = new Progress({ catalog: registry, executors: { get: () => undefined }, logger });
    const result = await scheduleExecution(tx, progress, executorFor(scope), {
      resource: instance,
      params: { ms },
      actor: null,
    });
    if (result.kind !== 'scheduled') throw new Error('not scheduled');
    return result;
  });
  const [row] = await queryRows<{ payload: string }>(
    testDb.database.url,
    "select payload from jetcel_outbox where subject = 'tasks.regular' and payload like $1",
    [`%${executionId}%`],
  );
  assert.ok(row);
  const stepId = (JSON.parse(row.payload) as { stepId: string }).stepId;
  return { delivery: deliveryOf(row.payload), executionId, stepId };
}

const stepOf = async (stepId: string) =>
  (
    await queryRows<{ status: string; worker: string | null; claim_token: string | null }>(
      testDb.database.url,
      'select status, worker, claim_token from jetcel_step where id = $1',
      [stepId],
    )
  )[0];

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
  const holder = await schedule(scope);
  const waiter = await schedule(scope);
  const throttle = { kind: KIND, scope };
  const holderExecution = await db.read((tx) => tx.executions.get(holder.executionId));
  const waiterExecution = await db.read((tx) => tx.executions.get(waiter.executionId));
  assert.ok(holderExecution && waiterExecution);
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
  const [slot] = await queryRows<{ execution_id: string }>(
    testDb.database.url,
    'select execution_id from jetcel_throttle_slot where scope = $1',
    [scope],
  );
  assert.equal(slot?.execution_id, waiter.executionId);
  const recorded = await db.read((tx) => tx.executions.get(waiter.executionId));
  assert.equal(recorded?.lease?.token, claimToken);
  // Then one compare-and-set moves the KV key to it.
  assert.ok(ended);
  const moved = await gate.afterEnd(ended);
  assert.ok(moved && moved.revision > admitted.lease.revision, 'the fencing token went up');
  const [entry] = await leases.occupancy(KIND, scope, 1);
  assert.equal(entry?.holder?.executionId, waiter.executionId);
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
