import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually } from '@jetcel/testing';
import { Stack } from '../stack.ts';

let stack: Stack;
before(async () => {
  stack = await Stack.start({
    buildDelayMs: 300,
    env: {
      THROTTLE_RECHECK_MS: '300',
      THROTTLE_WAIT_LIMIT_MS: '2000',
      JETCEL_CLAIM_TTL_MS: '1500',
      JETCEL_CLAIM_GRACE_MS: '300',
      JETCEL_LEASE_TTL_MS: '3000',
    },
  });
  await stack.spawn('executor');
  await stack.spawn('worker', { queue: 'regular' });
});
after(async () => {
  await stack?.stop();
});

test('D2/D3: a throttled create waits in CREATION_SCHEDULED; past the wait limit it ends ERRED and its place is gone', async () => {
  await stack.ok('cmd.cloud_settings.create', { id: 'full-cloud', name: 'Never frees' });
  await stack.setThrottleLimit('full-cloud', 0);
  const created = await stack.ok<{ id: string; executionId: string }>('cmd.instance.create', {
    name: 'starved',
    cloudSettingsId: 'full-cloud',
  });
  await eventually(
    async () =>
      (await stack.sql('select * from jetcel_throttle_waiter where execution_id = $1', [created.executionId]))
        .length === 1,
  );
  assert.equal(
    (await stack.sql<{ state: string }>('select state from ref_instance where id = $1', [created.id]))[0]?.state,
    'CREATION_SCHEDULED',
  );
  await stack.waitForState(created.id, 'ERRED', 10_000);
  const instance = await stack.instance(created.id);
  assert.match(
    String(instance.errorMessage),
    /Throttled: no free instance_provision slot in scope full-cloud after \d+ s/,
  );
  assert.equal(
    (await stack.sql('select * from jetcel_throttle_waiter where execution_id = $1', [created.executionId])).length,
    0,
  );
  const [step] = await stack.sql<{ attempts: number; status: string }>(
    "select attempts, status from jetcel_step where execution_id = $1 and task = 'instance.create_server'",
    [created.executionId],
  );
  assert.deepEqual([step?.status, step?.attempts], ['failed', 1]);
});

test('D3: a stalled holder loses its lease past the TTL; the cloud refuses its stale fencing token', async () => {
  await fetch(`${stack.cloud.url}/config`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ buildDelayMs: 300 }),
  });
  await stack.ok('cmd.cloud_settings.create', { id: 'solo', name: 'One slot' });
  await stack.setThrottleLimit('solo', 1);
  // This worker freezes for 12 s (event loop included) right before its first task runs: longer
  // than the claim (1.5 s) and the lease TTL (3 s), with room for the other worker to start on a
  // busy machine and take the step over.
  for (const other of stack.services.filter((service) =>
    service.output().some((line) => line.includes('"worker ready"')),
  ))
    await other.stop();
  const stalled = await stack.spawn('worker', {
    queue: 'regular',
    env: { JETCEL_FAULT_PAUSE: 'before-task-run:12000', WORKER_CONCURRENCY: '1' },
  });
  const created = await stack.ok<{ id: string; executionId: string }>('cmd.instance.create', {
    name: 'stall',
    cloudSettingsId: 'solo',
  });
  await stalled.waitForLine(/fault pause before-task-run: blocking/, 10_000);
  await stack.spawn('worker', { queue: 'regular' });
  await stack.waitForState(created.id, 'OK', 30_000);
  await stalled.waitForLine(/fault pause before-task-run: process \d+ resumes/, 20_000);
  // Resumed, the old holder races its create call (with the old fencing token) against its first
  // heartbeat: either the cloud refused the stale token, or the heartbeat found the claim taken
  // over and aborted the call. Either way its result was discarded.
  const discarded = await eventually(
    () =>
      stalled
        .output()
        .find(
          (line) =>
            line.includes('claim lost before commit') &&
            (/fencing token \d+ is older than \d+/.test(line) || /Claim on step [0-9a-f-]+ was lost/.test(line)),
        ),
    { timeoutMs: 10_000, message: 'the stalled holder was refused or found its claim lost, and discarded its result' },
  );
  assert.ok(discarded);
  const servers = (await fetch(`${stack.cloud.url}/servers?settingsId=solo`).then((r) => r.json())) as unknown[];
  assert.equal(servers.length, 1, 'only the new holder created a server');
  const [execution] = await stack.sql<{ status: string }>('select status from jetcel_execution where id = $1', [
    created.executionId,
  ]);
  assert.equal(execution?.status, 'succeeded');
});
