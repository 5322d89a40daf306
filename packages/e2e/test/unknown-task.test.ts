import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Leases } from '@jetcel/bus';
import { eventually, type ServiceProcess } from '@jetcel/testing';
import { Stack } from './stack.ts';

// A step whose task no worker knows (a stored plan naming a task the workers lack) is
// dead-lettered after the grace period and fails its execution like any final failure: the
// failure handler runs, the resource is ERRED with a message naming the task, and the throttle
// slot is passed on at once instead of being held until the lease expires (60 s).

let stack: Stack;
let worker: ServiceProcess | undefined;
before(async () => {
  stack = await Stack.start({ buildDelayMs: 300, env: { JETCEL_UNKNOWN_TASK_GRACE_MS: '1500' } });
  await stack.spawn('executor');
});
after(async () => {
  await stack?.stop();
});

/** An execution's steps in order, as [role, task, status]. */
async function stepsOf(executionId: string): Promise<string[][]> {
  const steps = await stack.sql<{ role: string; task: string; status: string }>(
    'select role, task, status from jetcel_step where execution_id = $1 order by queued_at',
    [executionId],
  );
  return steps.map((step) => [step.role, step.task, step.status]);
}

test('an unknown task fails its execution: handler ran, resource ERRED with the task named, the lease passed on', async () => {
  await stack.setThrottleLimit('default', 1);
  const first = await stack.ok<{ id: string; executionId: string }>('cmd.instance.create', {
    name: 'typo',
    cloudSettingsId: 'default',
  });
  // No worker runs yet: the stored plan's poll step now names a task no worker has.
  await stack.sql(
    `update jetcel_execution set plan = jsonb_set(plan, '{steps,1,task}', '"instance.poll_servr"') where id = $1`,
    [first.executionId],
  );
  worker = await stack.spawn('worker', { queue: 'regular' });
  // The first execution holds the only slot of the scope; the second waits for it.
  await stack.waitForState(first.id, 'CREATING');
  const second = await stack.ok<{ id: string }>('cmd.instance.create', { name: 'behind', cloudSettingsId: 'default' });

  const erred = await stack.waitForState(first.id, 'ERRED', 20_000);
  assert.match(String(erred.error_message), /task instance\.poll_servr is unknown to every worker/);
  const [execution] = await stack.sql<{ status: string; error_message: string }>(
    'select status, error_message from jetcel_execution where id = $1',
    [first.executionId],
  );
  assert.equal(execution?.status, 'failed');
  assert.match(String(execution?.error_message), /instance\.poll_servr/);
  assert.deepEqual(await stepsOf(first.executionId), [
    ['main', 'instance.create_server', 'succeeded'],
    ['main', 'instance.poll_servr', 'failed'],
    ['failure', 'instance.set_erred', 'succeeded'],
  ]);
  // The slot went on: the second create runs well before the first lease could have expired.
  await stack.waitForState(second.id, 'OK', 20_000);
  await eventually(async () => (await (await Leases.open(stack.bus)).entries()).length === 0, {
    message: 'every lease was released',
  });

  // The dead letter stays on record; its step has failed, so it can no longer be re-driven.
  const [letter] = await stack.sql<{ id: string; reason: string }>(
    'select id, reason from jetcel_dead_letter where execution_id = $1',
    [first.executionId],
  );
  assert.equal(letter?.reason, 'UNKNOWN_TASK');
  const redrive = await stack.request('cmd.dead_letter.redrive', { id: letter?.id });
  assert.equal(redrive.ok ? 'ok' : redrive.error.code, 'INVALID_STATE');
});

test('an unknown failure handler: the resource still ends ERRED with the failure, the execution failed', async () => {
  await worker?.stop();
  const created = await stack.ok<{ id: string; executionId: string }>('cmd.instance.create', {
    name: 'no-handler',
    cloudSettingsId: 'default',
  });
  await stack.sql(
    `update jetcel_execution set plan = jsonb_set(jsonb_set(plan, '{steps,1,task}', '"instance.poll_servr"'),
       '{onFailure,0,task}', '"instance.set_erred_v2"') where id = $1`,
    [created.executionId],
  );
  worker = await stack.spawn('worker', { queue: 'regular' });
  const erred = await stack.waitForState(created.id, 'ERRED', 20_000);
  assert.match(String(erred.error_message), /task instance\.poll_servr is unknown to every worker/);
  assert.deepEqual(await stepsOf(created.executionId), [
    ['main', 'instance.create_server', 'succeeded'],
    ['main', 'instance.poll_servr', 'failed'],
    ['failure', 'instance.set_erred_v2', 'failed'],
  ]);
  const [execution] = await stack.sql<{ status: string }>('select status from jetcel_execution where id = $1', [
    created.executionId,
  ]);
  assert.equal(execution?.status, 'failed');
  await eventually(async () => (await (await Leases.open(stack.bus)).entries()).length === 0, {
    message: 'the lease was released',
  });
});
