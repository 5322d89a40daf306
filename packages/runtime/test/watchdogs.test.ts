import assert from 'node:assert/strict';
import { test } from 'node:test';
import { silentLogger, type TaskContext } from '@jetcel/core';
import { resourceReader } from '../src/run/resource-reader.ts';
import { composeDomains } from '../src/domain/compose.ts';
import { PROVISIONING_TIMED_OUT, resetUpdatingTask, stuckProvisioningTask } from '../src/watchdog/tasks.ts';
import { queryRows } from '@jetcel/testing';
import { useTestDb } from './db-fixture.ts';

// The framework's watchdogs look after every resource type the worker's domains register: here a
// `widget`, a type no domain of the framework knows about.
const env = useTestDb({ widgets: true });

function context(): TaskContext<unknown> {
  return {
    signal: new AbortController().signal,
    cancelSignal: new AbortController().signal,
    attempt: 1,
    pollCount: 0,
    idempotencyKey: 'run-1',
    fencingToken: null,
    fencingSlot: null,
    heartbeat: async () => {},
    log: silentLogger,
    actor: null,
    executionId: null,
    stepId: null,
    resource: null,
    resources: resourceReader(env.db),
    services: {},
  };
}

async function widget(name: string, state: string, minutesAgo: number): Promise<string> {
  const id = await env.db.transaction(async (tx) => {
    const row = await tx.resources.insert('widget', { name }, { executionId: null, actor: null });
    return row.id;
  });
  await queryRows(
    env.database.url,
    `update test_widget set state = $1, modified_at = now() - ($2 * interval '1 minute') where id = $3`,
    [state, minutesAgo, id],
  );
  return id;
}

test('the watchdogs cover every registered resource type, not one domain list', async () => {
  assert.deepEqual(resourceReader(env.db).types(), ['widget']);
  const stuck = await widget('stuck', 'CREATING', 30);
  await widget('fresh', 'CREATING', 0);
  const outcome = await stuckProvisioningTask.run(
    context(),
    stuckProvisioningTask.parseArgs({ timeoutMs: 10 * 60_000 }),
  );
  assert.ok(outcome?.kind === 'done');
  assert.deepEqual(
    outcome.also?.map((entry) => [entry.ref, entry.patch.errorMessage]),
    [[`widget:${stuck}`, PROVISIONING_TIMED_OUT]],
  );
  const none = await stuckProvisioningTask.run(context(), stuckProvisioningTask.parseArgs({ types: ['volume'] }));
  assert.deepEqual(none?.kind === 'done' ? none.also : null, [], 'a type the worker lacks is skipped');

  const updating = await widget('updating', 'UPDATING', 0);
  const reset = await resetUpdatingTask.run(context(), resetUpdatingTask.parseArgs({}));
  assert.deepEqual(reset?.kind === 'done' ? reset.also?.map((entry) => [entry.ref, entry.patch.transition]) : null, [
    [`widget:${updating}`, 'set_ok'],
  ]);
});

test('every composed deployment schedules the watchdogs, timed from its environment', () => {
  const composed = composeDomains([], {
    env: { JETCEL_PROVISIONING_TIMEOUT_MS: '60000', BEAT_RESET_UPDATING_EVERY_MS: '5000' },
  });
  const byName = new Map(composed.schedules.map((schedule) => [schedule.name, schedule]));
  assert.deepEqual(byName.get('set-erred-stuck-resources')?.args, { timeoutMs: 60_000 });
  assert.equal(byName.get('set-erred-stuck-resources')?.task, 'jetcel.stuck_provisioning');
  assert.equal(byName.get('reset-updating-resources')?.every, 5000);
  assert.ok(composed.tasks.get('jetcel.stuck_provisioning') && composed.tasks.get('jetcel.reset_updating'));
});
