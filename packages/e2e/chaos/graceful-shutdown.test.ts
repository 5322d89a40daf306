import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually } from '@jetcel/testing';
import { Stack } from '../test/stack.ts';

// Graceful shutdown: SIGTERM stops pulling, hands back what is still running within the deadline, keeps
// scope leases with their executions, exits 0; nothing waits a full ack wait because of it.

let stack: Stack;
before(async () => {
  stack = await Stack.start({
    buildDelayMs: 100,
    env: { WORKER_SHUTDOWN_DEADLINE_MS: '3000', JETCEL_ACK_WAIT_MS_HEAVY: '60000' },
  });
  await fetch(`${stack.cloud.url}/config`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ snapshotDelayMs: 15_000 }),
  });
  await stack.spawn('executor');
  await stack.spawn('worker', { queue: 'regular' });
});
after(async () => {
  await stack?.stop();
});

test('G3: SIGTERM hands a running task back within the deadline; another worker runs it at once; no crash is counted', async () => {
  const { id } = await stack.readyInstance('shutdown');
  const first = await stack.spawn('worker', { queue: 'heavy' });
  const backup = await stack.ok<{ executionId: string }>('cmd.instance.backup', { id, name: 'during-shutdown' });
  const step = await eventually(async () => {
    const [row] = await stack.sql<{ id: string; status: string }>(
      "select id, status from jetcel_step where execution_id = $1 and task = 'instance.create_snapshot'",
      [backup.executionId],
    );
    return row?.status === 'running' ? row : undefined;
  });
  const stoppedAt = Date.now();
  assert.equal(await first.stop(), 0, 'exits 0');
  const stopMs = Date.now() - stoppedAt;
  assert.ok(stopMs < 6000, `stopped within the deadline (${stopMs} ms)`);
  assert.ok(first.output().some((line) => line.includes('step handed back at shutdown')));
  const [handedBack] = await stack.sql<{ status: string; takeovers: number; attempts: number }>(
    'select status, takeovers, attempts from jetcel_step where id = $1',
    [step.id],
  );
  assert.deepEqual(
    [handedBack?.status, handedBack?.takeovers, handedBack?.attempts],
    ['queued', 0, 1],
    'back in the queue; not a crash, not an attempt',
  );
  const second = await stack.spawn('worker', { queue: 'heavy' });
  const restartedAt = Date.now();
  await eventually(
    () => second.output().some((line) => line.includes('"msg":"step started"') && line.includes(step.id)),
    { timeoutMs: 10_000 },
  );
  assert.ok(Date.now() - restartedAt < 10_000, 'picked up at once, not after the 60 s ack wait');
  const execution = await stack.waitForExecution(backup.executionId, 40_000);
  assert.equal(execution.status, 'succeeded');
});
