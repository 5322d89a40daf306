import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Stack } from './stack.ts';

let stack: Stack;
before(async () => {
  stack = await Stack.start({ buildDelayMs: 100, env: { INSTANCE_VOLUME_STAGGER_MS: '4000' } });
  await stack.spawn('executor');
  await stack.spawn('worker', { queue: 'regular' });
});
after(async () => {
  await stack?.stop();
});

const volumes = [
  { name: 'data-1', size: 10 },
  { name: 'data-2', size: 20 },
  { name: 'data-3', size: 30 },
];

interface StepRow {
  role: string;
  position: number;
  member: number;
  task: string;
  status: string;
  started_at: Date | null;
  finished_at: Date | null;
}

const stepsOf = (executionId: string) =>
  stack.sql<StepRow>(
    'select role, position, member, task, status, started_at, finished_at from jetcel_step where execution_id = $1 order by position, member',
    [executionId],
  );

test('B8 fail-fast: the first volume fails, the delayed members never start, the instance is ERRED and its volumes cleaned up (item 40)', async () => {
  await stack.fault({ op: 'create', resource: 'volume', mode: 'error', message: 'Volume quota exceeded', count: 1 });
  const before = (await fetch(`${stack.cloud.url}/stats`).then((r) => r.json())) as { requests: number };
  // With INSTANCE_VOLUME_STAGGER_MS=4000 the 2nd and 3rd volume creates start 4 and 8 s after the first.
  const created = await stack.ok<{ id: string; executionId: string; volumeIds: string[] }>('cmd.instance.create', {
    name: 'fail-fast',
    cloudSettingsId: 'default',
    volumes,
  });
  const execution = await stack.waitForExecution(created.executionId);
  assert.equal(execution.status, 'failed');
  const instance = await stack.instance(created.id);
  assert.equal(instance.state, 'ERRED');
  assert.match(String(instance.errorMessage), /Volume quota exceeded/);
  const members = (await stepsOf(created.executionId)).filter((step) => step.role === 'main' && step.position === 0);
  assert.deepEqual(
    members.map((member) => member.status),
    ['failed', 'cancelled', 'cancelled'],
  );
  assert.ok(
    members.slice(1).every((member) => member.started_at === null),
    'the delayed members never started',
  );
  assert.equal((await stepsOf(created.executionId)).filter((step) => step.task === 'instance.create_server').length, 0);
  const remaining = await stack.sql<{ id: string; state: string }>(
    'select id, state from ref_volume where instance_id = $1 order by name',
    [created.id],
  );
  assert.deepEqual(
    remaining.map((row) => row.state),
    ['ERRED'],
    'the never-started volumes were deleted, the failed one is ERRED',
  );
  await new Promise((resolve) => setTimeout(resolve, 8500));
  const after = (await fetch(`${stack.cloud.url}/stats`).then((r) => r.json())) as { requests: number };
  assert.equal(after.requests - before.requests, 1, 'only the first volume create reached the cloud');
});
