import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Stack } from '../stack.ts';

let stack: Stack;
before(async () => {
  stack = await Stack.start({ buildDelayMs: 100 });
  await stack.spawn('executor');
  await stack.spawn('worker', { queue: 'regular' });
});
after(async () => {
  await stack?.stop();
});

test('B7: a nested executor runs its preApply when its step is reached; its failure marks its own resource and the outer one', async () => {
  await stack.fault({ op: 'build', resource: 'volume', mode: 'error', message: 'Disk backend offline', count: 1 });
  const created = await stack.ok<{ id: string; executionId: string; volumeIds: string[] }>('cmd.instance.create', {
    name: 'nested-fails',
    cloudSettingsId: 'default',
    volumes: [{ name: 'broken', size: 5 }],
  });
  const execution = await stack.waitForExecution(created.executionId);
  assert.equal(execution.status, 'failed');
  const [volume] = await stack.sql<{ state: string; error_message: string }>(
    'select state, error_message from ref_volume where id = $1',
    [created.volumeIds[0]],
  );
  assert.deepEqual(
    [volume?.state, volume?.error_message],
    ['ERRED', 'Disk backend offline'],
    'the inner executor marked its own resource',
  );
  const instance = await stack.instance(created.id);
  assert.deepEqual(
    [instance.state, instance.errorMessage],
    ['ERRED', 'Disk backend offline'],
    'the outer executor marked the instance',
  );
  const [child] = await stack.sql<{ status: string; created_at: Date; started_at: Date }>(
    `select c.status, c.created_at, s.started_at from jetcel_execution c join jetcel_step s on s.id = c.parent_step_id where s.execution_id = $1`,
    [created.executionId],
  );
  assert.equal(child?.status, 'failed');
  assert.ok(
    new Date(child.created_at).getTime() >= new Date(child.started_at).getTime(),
    'preApply ran when the step was reached, not at submission',
  );
});

test("B11: a cleanup executor deletes the owner's resources in dependency order, forced, then the owner", async () => {
  const project = await stack.ok<{ id: string; state: string }>('cmd.project.create', { name: 'tenant-a' });
  assert.equal(project.state, 'OK');
  const vm1 = await stack.readyInstance('p-vm-1', { projectId: project.id });
  const vm2 = await stack.readyInstance('p-vm-2', { projectId: project.id, volumes: [{ name: 'p-data', size: 1 }] });
  await stack.fault({ op: 'delete', resource: 'server', mode: 'error', message: 'Server is locked', count: 1 });
  const cleanup = await stack.ok<{ executionId: string; state: string }>('cmd.project.delete', { id: project.id });
  assert.equal(cleanup.state, 'DELETION_SCHEDULED');
  const execution = await stack.waitForExecution(cleanup.executionId, 30_000);
  assert.equal(execution.status, 'succeeded');
  const main = execution.steps.filter((step) => step.role === 'main').sort((a, b) => a.position - b.position);
  assert.deepEqual(
    main.map((step) => [step.task, (step as { result?: unknown }).result === null ? null : 'x']).map(([task]) => task),
    ['jetcel.transition', 'jetcel.cleanup_related', 'jetcel.cleanup_related'],
    'one cleanup step per related type: the resources are found when it runs',
  );
  const children = await stack.sql<{ executor: string; status: string; position: number }>(
    `select c.executor, c.status, s.position from jetcel_execution c join jetcel_step s on s.id = c.parent_step_id
     where s.execution_id = $1 order by s.position, c.created_at`,
    [cleanup.executionId],
  );
  assert.deepEqual(
    children.map((child) => child.executor),
    ['instance.delete', 'instance.delete', 'volume.delete'],
    'instances before volumes',
  );
  assert.ok(
    children.some((child) => child.status === 'failed'),
    'one instance delete failed and was ignored',
  );
  assert.equal(
    (await stack.sql('select id from ref_project where id = $1', [project.id])).length,
    0,
    'the owner is deleted',
  );
  const left = await stack.sql('select id from ref_instance where id = any($1)', [[vm1.id, vm2.id]]);
  assert.equal(left.length, 0, 'force deleted even the instance whose backend delete failed');
  assert.equal((await stack.sql('select id from ref_volume where project_id = $1', [project.id])).length, 0);
});
