import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { sampleValue } from '@jetcel/telemetry';
import { eventually, freePort, type ServiceProcess } from '@jetcel/testing';
import { Stack } from '../stack.ts';

// Retention: beat's `prune-retention` schedule runs jetcel.prune on the background worker; with a
// one-second retention, published outbox rows, a finished execution, an idempotency key and a
// re-driven dead letter go, while a running execution, unpublished outbox rows and a dead letter
// nobody re-drove stay; query.retention.stats and a gauge show the counts (and the kept dead letter).
const RETENTION_MS = 1000;

let stack: Stack;
let background: ServiceProcess;
let metricsPort: number;
before(async () => {
  metricsPort = await freePort();
  stack = await Stack.start({
    env: {
      RETENTION_OUTBOX_MS: String(RETENTION_MS),
      RETENTION_EXECUTIONS_MS: String(RETENTION_MS),
      RETENTION_IDEMPOTENCY_MS: String(RETENTION_MS),
      RETENTION_DEAD_LETTERS_MS: String(RETENTION_MS),
      BEAT_PRUNE_EVERY_MS: '1000',
    },
  });
  // Two at a time: four services starting at once on a small, busy machine can miss the ready timeout.
  await Promise.all([
    stack.spawn('executor', { env: { JETCEL_METRICS_PORT: String(metricsPort) } }),
    stack.spawn('worker', { queue: 'regular' }),
  ]);
  [background] = await Promise.all([stack.spawn('worker', { queue: 'background' }), stack.spawn('beat')]);
});
after(async () => {
  await stack?.stop();
});

interface Stats {
  rows: {
    outbox: { total: number; unpublished: number };
    executions: { total: number; byStatus: Record<string, number> };
    steps: number;
    deadLetters: number | null;
    idempotencyKeys: number;
    scheduleTicks: number;
    backgroundRuns: number;
  };
  retention: Record<string, number>;
  kept: { deadLetters: number };
}

async function deadLetter(redriven: boolean): Promise<string> {
  const id = randomUUID();
  await stack.sql(
    `insert into jetcel_dead_letter (id, reason, subject, payload, created_at, redriven_at)
     values ($1, 'CRASH_BUDGET', 'tasks.regular', '{}', now() - interval '1 day', $2)`,
    [id, redriven ? new Date(Date.now() - 3_600_000) : null],
  );
  return id;
}

const exists = async (table: string, id: string): Promise<boolean> =>
  (await stack.sql(`select 1 from ${table} where id = $1`, [id])).length === 1;

/** The background worker's `retention pruned` log entries so far. */
const pruneLogs = (): Array<Record<string, unknown>> =>
  background
    .output()
    .map((line): Record<string, unknown> | null => {
      try {
        return JSON.parse(line) as Record<string, unknown>;
      } catch {
        return null;
      }
    })
    .filter((entry): entry is Record<string, unknown> => entry?.msg === 'retention pruned');

test('G6: prune removes what is past its retention and keeps what is live; row counts are visible', async () => {
  const started = Date.now();
  // Finished: an instance created (with an Idempotency-Key) and built.
  const done = await stack.ok<{ id: string; executionId: string }>(
    'cmd.instance.create',
    { name: 'retention-done', cloudSettingsId: 'default' },
    { 'Idempotency-Key': randomUUID() },
  );
  await stack.waitForExecution(done.executionId);
  // Running: a build the cloud takes a minute over, so its execution polls throughout the test.
  await fetch(`${stack.cloud.url}/config`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ buildDelayMs: 60_000 }),
  });
  const running = await stack.ok<{ id: string; executionId: string }>('cmd.instance.create', {
    name: 'retention-running',
    cloudSettingsId: 'default',
  });
  const runningSince = Date.now();
  // Unpublished: an old row not due for an hour (a long timer) that the relay must still publish.
  const waiting = randomUUID();
  await stack.sql(
    `insert into jetcel_outbox (id, subject, payload, created_at, not_before)
     values ($1, 'tasks.regular', '{}', now() - interval '1 day', now() + interval '1 hour')`,
    [waiting],
  );
  // Dead letters a day old: one re-driven an hour ago (it goes), one nobody re-drove (it stays).
  const redriven = await deadLetter(true);
  const pending = await deadLetter(false);
  const published = (
    await stack.sql<{ id: string }>('select id from jetcel_outbox where published_at is not null')
  ).map((row) => row.id);

  await eventually(
    async () => {
      const left = await stack.sql('select 1 from jetcel_outbox where id = any($1::uuid[])', [published]);
      const keys = await stack.sql('select 1 from jetcel_idempotency_key');
      return (
        left.length === 0 &&
        keys.length === 0 &&
        !(await exists('jetcel_execution', done.executionId)) &&
        !(await exists('jetcel_dead_letter', redriven))
      );
    },
    {
      timeoutMs: 15_000,
      intervalMs: 200,
      message: 'published rows, the finished execution, the key and the re-driven dead letter pruned',
    },
  );
  assert.equal(
    (await stack.sql('select 1 from jetcel_step where execution_id = $1', [done.executionId])).length,
    0,
    'its steps went with it',
  );
  // One more prune once the running execution is well past the retention: it still stays.
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, runningSince + 2 * RETENTION_MS - Date.now())));
  const runsSoFar = pruneLogs().length;
  await eventually(() => pruneLogs().length > runsSoFar, { timeoutMs: 5000, message: 'another prune ran' });

  assert.ok(await exists('jetcel_outbox', waiting), 'an unpublished row stays, however old');
  assert.ok(await exists('jetcel_dead_letter', pending), 'a dead letter nobody re-drove stays, however old');
  const live = await stack.sql<{ status: string }>('select status from jetcel_execution where id = $1', [
    running.executionId,
  ]);
  assert.deepEqual(live, [{ status: 'running' }], 'the running execution stays');
  assert.ok((await stack.sql('select 1 from jetcel_step where execution_id = $1', [running.executionId])).length > 0);

  const reply = await stack.request('query.retention.stats', {});
  assert.ok(reply.ok, JSON.stringify(reply));
  const stats = reply.data as Stats;
  assert.deepEqual(stats.retention, {
    outboxMs: RETENTION_MS,
    executionsMs: RETENTION_MS,
    deadLettersMs: RETENTION_MS,
    idempotencyMs: RETENTION_MS,
    ticksMs: 7 * 86_400_000,
  });
  assert.deepEqual(stats.rows.executions, {
    total: 1,
    byStatus: { running: 1, cancel_requested: 0, succeeded: 0, failed: 0, cancelled: 0 },
  });
  assert.ok(stats.rows.outbox.unpublished >= 1 && stats.rows.outbox.total >= stats.rows.outbox.unpublished);
  assert.ok(stats.rows.steps >= 1);
  assert.equal(stats.rows.deadLetters, 1);
  assert.deepEqual(stats.kept, { deadLetters: 1 }, 'the kept dead letter is counted');
  const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  assert.equal(sampleValue(metrics, 'jetcel_dead_letters_kept'), 1);
  assert.equal(stats.rows.idempotencyKeys, 0);
  assert.ok(stats.rows.scheduleTicks >= 1);

  const pruned = pruneLogs();
  const total = (key: string) => pruned.reduce((sum, entry) => sum + Number(entry[key] ?? 0), 0);
  assert.equal(total('executions'), 1, 'exactly the finished execution was pruned');
  assert.ok(total('outbox') >= published.length);
  assert.equal(total('idempotencyKeys'), 1, 'the key was pruned once');
  assert.equal(total('deadLetters'), 1, 'only the re-driven dead letter was pruned');
  assert.equal(pruned.at(-1)?.deadLettersKept, 1, 'the prune run counts the dead letter it kept');
  console.log(
    `G6: ${pruned.length} prune runs; pruned ${total('outbox')} outbox rows, ${total('executions')} execution ` +
      `(${total('steps')} steps), ${total('idempotencyKeys')} key; ${Date.now() - started} ms`,
  );
});
