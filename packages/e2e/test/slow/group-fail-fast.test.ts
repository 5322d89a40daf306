import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stepsOf as stepsIn, useGroupStack, volumes } from '../group-fixture.ts';

const fixture = useGroupStack(4000);
const stepsOf = (executionId: string) => stepsIn(fixture.stack, executionId);

test('B8 fail-fast: the first volume fails, the delayed members never start, the instance is ERRED and its volumes cleaned up (item 40)', async () => {
  await fixture.stack.fault({
    op: 'create',
    resource: 'volume',
    mode: 'error',
    message: 'Volume quota exceeded',
    count: 1,
  });
  const before = (await fetch(`${fixture.stack.cloud.url}/stats`).then((r) => r.json())) as { requests: number };
  // With INSTANCE_VOLUME_STAGGER_MS=4000 the 2nd and 3rd volume creates start 4 and 8 s after the first.
  const created = await fixture.stack.ok<{ id: string; executionId: string; volumeIds: string[] }>(
    'cmd.instance.create',
    {
      name: 'fail-fast',
      cloudSettingsId: 'default',
      volumes,
    },
  );
  const execution = await fixture.stack.waitForExecution(created.executionId);
  assert.equal(execution.status, 'failed');
  const instance = await fixture.stack.instance(created.id);
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
  const remaining = await fixture.stack.sql<{ id: string; state: string }>(
    'select id, state from ref_volume where instance_id = $1 order by name',
    [created.id],
  );
  assert.deepEqual(
    remaining.map((row) => row.state),
    ['ERRED'],
    'the never-started volumes were deleted, the failed one is ERRED',
  );
  await new Promise((resolve) => setTimeout(resolve, 8500));
  const after = (await fetch(`${fixture.stack.cloud.url}/stats`).then((r) => r.json())) as { requests: number };
  assert.equal(after.requests - before.requests, 1, 'only the first volume create reached the cloud');
});
