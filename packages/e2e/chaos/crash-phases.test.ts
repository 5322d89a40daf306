import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Stack } from '../test/stack.ts';

// Exactly-once step commits: SIGKILL a worker in every phase of a backend step. The step commits once,
// the next step once, the resource ends right, and the cloud holds exactly one server.

let stack: Stack;
const env = { JETCEL_ACK_WAIT_MS_REGULAR: '2000', JETCEL_CLAIM_TTL_MS: '2000', JETCEL_CLAIM_GRACE_MS: '300' };
before(async () => {
  stack = await Stack.start({ buildDelayMs: 300, env });
  await stack.spawn('executor');
});
after(async () => {
  await stack?.stop();
});

for (const phase of ['before-backend-call', 'after-backend-call', 'after-step-commit-before-ack'] as const) {
  test(`C8: a worker killed ${phase} loses nothing and commits nothing twice`, async () => {
    const name = `crash-${phase}`;
    const created = await stack.ok<{ id: string; executionId: string }>('cmd.instance.create', {
      name,
      cloudSettingsId: 'default',
    });
    const doomed = await stack.spawn('worker', {
      queue: 'regular',
      env: { JETCEL_FAULT_POINT: phase, JETCEL_FAULT_MATCH: `instance.create_server ${created.executionId}` },
    });
    assert.equal(await doomed.exited, null, 'the worker died of SIGKILL at the fault point');
    assert.ok(doomed.output().some((line) => line.includes(`fault point ${phase} reached`)));
    const rescuer = await stack.spawn('worker', { queue: 'regular' });
    await stack.waitForState(created.id, 'OK', 30_000);
    const steps = await stack.sql<{ role: string; task: string; status: string; position: number }>(
      'select role, task, status, position from jetcel_step where execution_id = $1 order by queued_at',
      [created.executionId],
    );
    assert.deepEqual(
      steps.map((step) => [step.role, step.task, step.status]),
      [
        ['main', 'instance.create_server', 'succeeded'],
        ['main', 'instance.poll_server', 'succeeded'],
        ['success', 'jetcel.set_ok', 'succeeded'],
      ],
      'each step exactly once',
    );
    const servers = (await fetch(`${stack.cloud.url}/servers`).then((r) => r.json())) as Array<{ name: string }>;
    assert.equal(
      servers.filter((server) => server.name === name).length,
      1,
      'one server at the cloud (idempotency key)',
    );
    const events = await stack.sql<{ payload: string }>(
      'select payload from jetcel_outbox where subject like $1 order by created_at',
      [`events.instance.${created.id}.%`],
    );
    assert.deepEqual(
      events.map((event) => (JSON.parse(event.payload) as { to: string }).to),
      ['CREATION_SCHEDULED', 'CREATING', 'OK'],
      'one event per committed transition',
    );
    await rescuer.stop();
  });
}
