import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { consumerInfo } from '@jetcel/bus';
import { eventually, type ServiceProcess } from '@jetcel/testing';
import { Stack } from '../stack.ts';

// The heavy queue: its own stream and worker, ack wait 2 s here, snapshots of 6 s.

let stack: Stack;
let heavy: ServiceProcess;
before(async () => {
  stack = await Stack.start({
    buildDelayMs: 100,
    env: { JETCEL_ACK_WAIT_MS_HEAVY: '2000', JETCEL_CLAIM_TTL_MS: '2000', JETCEL_CLAIM_GRACE_MS: '500' },
  });
  await fetch(`${stack.cloud.url}/config`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ snapshotDelayMs: 6000 }),
  });
  await stack.spawn('executor');
  await stack.spawn('worker', { queue: 'regular' });
  heavy = await stack.spawn('worker', { queue: 'heavy' });
});
after(async () => {
  await stack?.stop();
});

const startedLines = (worker: ServiceProcess, stepId: string) =>
  worker.output().filter((line) => line.includes('"msg":"step started"') && line.includes(stepId));

test('C3: a heavy executor runs on tasks.heavy; a task 3× the ack wait, heartbeating, is delivered once', async () => {
  const { id } = await stack.readyInstance('to-back-up');
  const backup = await stack.ok<{ executionId: string; action: string }>('cmd.instance.backup', {
    id,
    name: 'nightly',
  });
  assert.equal(backup.action, 'Backup');
  const execution = await stack.waitForExecution(backup.executionId, 30_000);
  assert.equal(execution.status, 'succeeded');
  const snapshot = execution.steps.find((step) => step.task === 'instance.create_snapshot');
  assert.ok(snapshot);
  const [row] = await stack.sql<{ id: string; queue: string; attempts: number; started_at: Date; finished_at: Date }>(
    "select id, queue, attempts, started_at, finished_at from jetcel_step where execution_id = $1 and task = 'instance.create_snapshot'",
    [backup.executionId],
  );
  assert.equal(row?.queue, 'heavy');
  assert.ok(
    new Date(row.finished_at).getTime() - new Date(row.started_at).getTime() >= 6000,
    'the task ran 3× the ack wait',
  );
  assert.equal(startedLines(heavy, row.id).length, 1, 'delivered once');
  assert.equal((await consumerInfo(stack.bus, 'TASKS_HEAVY', 'worker-heavy')).numRedelivered, 0);
  const stats = (await fetch(`${stack.cloud.url}/stats`).then((r) => r.json())) as {
    settings: Record<string, { snapshotsCreated: number }>;
  };
  assert.equal(stats.settings.default?.snapshotsCreated, 1);
  assert.deepEqual(await stack.instance(id).then((instance) => [instance.state, instance.action]), ['OK', '']);
});

test('C8: SIGKILL of the heavy worker mid-task: another worker-heavy gets it again and it completes once at the backend', async () => {
  const { id } = await stack.readyInstance('backup-killed');
  const backup = await stack.ok<{ executionId: string }>('cmd.instance.backup', { id, name: 'interrupted' });
  const step = await eventually(async () => {
    const [row] = await stack.sql<{ id: string; status: string }>(
      "select id, status from jetcel_step where execution_id = $1 and task = 'instance.create_snapshot'",
      [backup.executionId],
    );
    return row?.status === 'running' ? row : undefined;
  });
  await new Promise((resolve) => setTimeout(resolve, 1000));
  heavy.kill('SIGKILL');
  const replacement = await stack.spawn('worker', { queue: 'heavy' });
  const execution = await stack.waitForExecution(backup.executionId, 40_000);
  assert.equal(execution.status, 'succeeded');
  assert.equal(startedLines(replacement, step.id).length, 1, 'the other worker-heavy ran it again');
  const snapshots = (await fetch(
    `${stack.cloud.url}/servers/${String((await stack.instance(id)).backendId)}/snapshots`,
  ).then((r) => r.json())) as unknown[];
  assert.equal(snapshots.length, 1, 'the repeat joined the same snapshot (idempotency key)');
  heavy = replacement;
});
