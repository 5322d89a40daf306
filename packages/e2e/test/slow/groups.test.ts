import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stepsOf as stepsIn, useGroupStack, volumes } from '../group-fixture.ts';

const fixture = useGroupStack(0);
const stepsOf = (executionId: string) => stepsIn(fixture.stack, executionId);

test('B8 fan-in: an instance with 3 volumes is built only after all 3 volumes are OK', async () => {
  const created = await fixture.stack.ok<{ id: string; executionId: string; volumeIds: string[] }>(
    'cmd.instance.create',
    {
      name: 'with-volumes',
      cloudSettingsId: 'default',
      volumes,
    },
  );
  assert.equal(created.volumeIds.length, 3);
  await fixture.stack.waitForState(created.id, 'OK');
  const volumeStates = await fixture.stack.sql<{ state: string; backend_id: string | null }>(
    'select state, backend_id from ref_volume where instance_id = $1',
    [created.id],
  );
  assert.deepEqual(
    volumeStates.map((row) => row.state),
    ['OK', 'OK', 'OK'],
  );
  assert.ok(volumeStates.every((row) => row.backend_id));
  const steps = await stepsOf(created.executionId);
  const members = steps.filter((step) => step.role === 'main' && step.position === 0);
  const createServer = steps.find((step) => step.task === 'instance.create_server');
  assert.equal(members.length, 3);
  assert.ok(members.every((member) => member.status === 'succeeded'));
  assert.ok(createServer?.started_at);
  const lastVolumeDone = Math.max(...members.map((member) => new Date(member.finished_at ?? 0).getTime()));
  assert.ok(
    new Date(createServer.started_at).getTime() >= lastVolumeDone,
    'the server build started after the last volume was OK',
  );
  const children = await fixture.stack.sql<{ status: string; executor: string }>(
    'select c.status, c.executor from jetcel_execution c join jetcel_step s on s.id = c.parent_step_id where s.execution_id = $1',
    [created.executionId],
  );
  assert.deepEqual(
    children.map((child) => `${child.executor}:${child.status}`),
    Array(3).fill('volume.create:succeeded'),
  );
});

test('B8 race: members that finish together continue the chain exactly once (20 runs)', async () => {
  for (let run = 0; run < 20; run += 1) {
    await fetch(`${fixture.stack.cloud.url}/barriers`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ op: 'volume-create', size: 3 }),
    });
    const created = await fixture.stack.ok<{ id: string; executionId: string }>('cmd.instance.create', {
      name: `race-${run}`,
      cloudSettingsId: 'default',
      volumes,
    });
    await fixture.stack.waitForState(created.id, 'OK');
    const steps = await stepsOf(created.executionId);
    assert.equal(
      steps.filter((step) => step.task === 'instance.create_server').length,
      1,
      `run ${run}: one continuation`,
    );
    assert.equal(steps.filter((step) => step.role === 'success').length, 1);
    const [group] = await fixture.stack.sql<{ remaining: number }>(
      'select remaining from jetcel_group where execution_id = $1',
      [created.executionId],
    );
    assert.equal(group?.remaining, 0);
  }
});
