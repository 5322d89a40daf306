import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startCloud } from '@jetcel/cloud';
import { startTestRuntime, type TestRuntime } from '@jetcel/testing-kit';
import { jetcelDomain } from '../src/jetcel-domain.ts';

// The project cleanup through the test kit: the project's instances and volumes are found when the
// cleanup runs, deleted by their own executors (instances first), a busy one waited for.

let cloud: Awaited<ReturnType<typeof startCloud>>;
let runtime: TestRuntime;
before(async () => {
  cloud = await startCloud({ buildDelayMs: 1500, deleteDelayMs: 50 });
  const env = { CLOUD_URL: cloud.url, INSTANCE_POLL_INTERVAL_MS: '100' };
  runtime = await startTestRuntime({ domains: [jetcelDomain({ ...process.env, ...env })], env });
});
after(async () => {
  await runtime?.stop();
  await cloud?.close();
});

interface Created {
  id: string;
  executionId: string;
  volumeIds?: string[];
}

test('project delete: related instances and volumes found at run time, a busy instance waited for, instances first', async () => {
  const project = await runtime.ok<{ id: string }>('cmd.project.create', { name: 'cleanup-kit' });
  const ready = await runtime.ok<Created>('cmd.instance.create', {
    name: 'ready-vm',
    cloudSettingsId: 'default',
    projectId: project.id,
    volumes: [{ name: 'ready-data', size: 1 }],
  });
  assert.equal((await runtime.run(ready.executionId, 60_000)).execution.status, 'succeeded');
  // Still being built (1.5 s) when the project is deleted: the cleanup waits for it.
  const building = await runtime.ok<Created>('cmd.instance.create', {
    name: 'building-vm',
    cloudSettingsId: 'default',
    projectId: project.id,
  });
  const cleanup = await runtime.ok<{ executionId: string; state: string }>('cmd.project.delete', { id: project.id });
  assert.equal(cleanup.state, 'DELETION_SCHEDULED');
  const run = await runtime.run(cleanup.executionId, 60_000);
  assert.equal(run.execution.status, 'succeeded', run.execution.errorMessage);
  assert.equal(run.resource, null, 'the project is deleted');
  assert.deepEqual(
    run.steps.map((step) => [step.role, step.task, step.status]),
    [
      ['main', 'jetcel.transition', 'succeeded'],
      ['main', 'jetcel.cleanup_related', 'succeeded'],
      ['main', 'jetcel.cleanup_related', 'succeeded'],
      ['success', 'jetcel.delete_resource', 'succeeded'],
    ],
  );
  const [instanceStep, volumeStep] = run.steps.filter((step) => step.task === 'jetcel.cleanup_related');
  assert.ok(instanceStep && volumeStep);
  assert.ok((instanceStep.polls ?? 0) > 0, 'the instance step looked again while the instance was busy');
  const children = await runtime.db.read(async (tx) => [
    ...(await tx.executions.childrenOfStep(instanceStep.id)),
    ...(await tx.executions.childrenOfStep(volumeStep.id)),
  ]);
  assert.deepEqual(
    children.map((child) => [child.executor, child.resourceId, child.status]),
    [
      ['instance.delete', ready.id, 'succeeded'],
      ['instance.delete', building.id, 'succeeded'],
      ['volume.delete', ready.volumeIds?.[0], 'succeeded'],
    ],
    'both instances (the busy one once built), then the volume',
  );
  const built = await runtime.db.read((tx) => tx.executions.get(building.executionId));
  const buildingDelete = children.find((child) => child.resourceId === building.id);
  assert.ok(built?.finishedAt && buildingDelete);
  // Timestamps are their transactions' start: the cleanup's transaction may begin before the create's
  // last commit and read the instance after it (waiting on its row lock). The delete's first step is
  // claimed only once the delete was scheduled, so its start orders after the create's end.
  const [firstDeleteStep] = (await runtime.run(buildingDelete.id, 60_000)).steps;
  assert.ok(firstDeleteStep?.startedAt);
  assert.ok(firstDeleteStep.startedAt >= built.finishedAt, 'the busy instance was deleted only after its create ended');
  for (const [type, id] of [
    ['instance', ready.id],
    ['instance', building.id],
    ['volume', ready.volumeIds?.[0] ?? ''],
  ] as const)
    assert.equal(await runtime.resource(type, id), null, `${type} ${id} is gone`);
});
