import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { applyTopology, connectBus, defineTopology, type Bus } from '@jetcel/bus';
import { defineTask, done, silentLogger, TaskRegistry } from '@jetcel/core';
import { eventually, queryRows, startNats, type NatsServerHandle } from '@jetcel/testing';
import { enqueueBackground } from '../src/background/enqueue.ts';
import { serviceConfigFromEnv } from '../src/service/config.ts';
import { startWorker, type RunningWorker } from '../src/service/worker.ts';
import { setupDb } from './db-fixture.ts';

// A background task throttled per scope (here: per tenant, from its arguments), on two workers with
// more free slots than the limit: the throttle alone keeps each scope at its limit.

const LIMIT = 3;
const LEASE_TTL_MS = 3000;
let nats: NatsServerHandle;
let bus: Bus;
let env: Awaited<ReturnType<typeof setupDb>>;
const workers: RunningWorker[] = [];

const running = new Map<string, number>();
const peak = new Map<string, number>();
const ran: Array<{ tenant: string; at: number }> = [];
const sync = defineTask<{ tenant: string; ms: number }>({
  name: 'test.tenant_sync',
  queue: 'background',
  equality: 'none',
  throttle: { kind: 'tenant_sync', scope: (args) => args.tenant, limit: LIMIT },
  async run(_ctx, args) {
    const now = (running.get(args.tenant) ?? 0) + 1;
    running.set(args.tenant, now);
    peak.set(args.tenant, Math.max(peak.get(args.tenant) ?? 0, now));
    ran.push({ tenant: args.tenant, at: Date.now() });
    await new Promise((resolve) => setTimeout(resolve, args.ms));
    running.set(args.tenant, (running.get(args.tenant) ?? 1) - 1);
    return done();
  },
});
const registry = new TaskRegistry().register(sync);

before(async () => {
  nats = await startNats();
  bus = await connectBus({ servers: nats.url, name: 'background-throttle-test' });
  env = await setupDb();
  const config = serviceConfigFromEnv({
    NATS_URL: nats.url,
    DATABASE_URL: env.database.url,
    JETCEL_SWEEP_MS: '100',
    JETCEL_LEASE_TTL_MS: String(LEASE_TTL_MS),
  });
  await applyTopology(bus, defineTopology(config.topology));
  for (const name of ['a', 'b']) {
    workers.push(
      await startWorker({
        bus,
        db: env.db,
        queue: 'background',
        concurrency: 8,
        registry,
        services: {},
        logger: silentLogger,
        config,
        worker: `bg-${name}`,
      }),
    );
  }
});
after(async () => {
  for (const worker of workers) await worker.stop(5_000);
  await env?.close();
  await bus?.close();
  await nats?.[Symbol.asyncDispose]();
});

const enqueue = (tenant: string, count: number, ms: number) =>
  env.db.transaction(async (tx) => {
    for (let index = 0; index < count; index++)
      await enqueueBackground(tx, registry, { task: sync.name, args: { tenant, ms } });
  });
const runsLeft = async () => (await queryRows(env.database.url, 'select 1 from jetcel_background_run')).length;

test('a throttled background task runs at most `limit` at once per scope, and reaches the limit', async () => {
  const busy = `busy-${randomUUID()}`;
  const other = `other-${randomUUID()}`;
  ran.length = 0;
  await enqueue(busy, 12, 300);
  await enqueue(other, 6, 300);
  await eventually(async () => ran.length === 18 && (await runsLeft()) === 0, {
    timeoutMs: 60_000,
    message: 'every run ran and settled',
  });
  assert.equal(peak.get(busy), LIMIT, `scope ${busy}: peak ${peak.get(busy)}, limit ${LIMIT}`);
  assert.equal(peak.get(other), LIMIT, 'each scope has its own slots');
  assert.equal(ran.filter((entry) => entry.tenant === busy).length, 12, 'each run ran once: waiting is not failing');
  // A slot is given back just after its run has settled (its own transaction): soon, not at once.
  await eventually(
    async () =>
      (await queryRows(env.database.url, 'select 1 from jetcel_throttle_slot where execution_id is not null'))
        .length === 0,
    { timeoutMs: 2000, message: 'every slot was given back' },
  );
  const attempts = await queryRows(env.database.url, 'select 1 from jetcel_background_run where attempts > 1');
  assert.equal(attempts.length, 0);
});

test('a slot whose holder died is free once its lease expires; the waiter then runs', async () => {
  const scope = `crashed-${randomUUID()}`;
  ran.length = 0;
  // Every slot of the scope held by runs of a worker that died (they never renew).
  for (let slot = 0; slot < LIMIT; slot++)
    await queryRows(
      env.database.url,
      `insert into jetcel_throttle_slot (kind, scope, slot, execution_id, renewed_at) values ('tenant_sync', $1, $2, $3, now())`,
      [scope, slot, randomUUID()],
    );
  const enqueuedAt = Date.now();
  await enqueue(scope, 1, 10);
  await new Promise((resolve) => setTimeout(resolve, LEASE_TTL_MS / 2));
  assert.equal(ran.length, 0, 'the run waits while the dead holders’ leases are live');
  await eventually(async () => ran.length === 1 && (await runsLeft()) === 0, {
    timeoutMs: 30_000,
    message: 'the waiter runs once a lease has expired',
  });
  assert.ok((ran[0]?.at ?? 0) - enqueuedAt >= LEASE_TTL_MS - 500, 'not before the lease expired');
});
