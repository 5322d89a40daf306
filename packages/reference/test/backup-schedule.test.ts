import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startCloud } from '@jetcel/cloud';
import { enqueueBackground } from '@jetcel/runtime';
import { setTimeout as sleep } from 'node:timers/promises';
import { startTestRuntime, type TestRuntime } from '@jetcel/testing-kit';
import { BACKUP_SCHEDULES_TASK } from '../src/backup-schedule.ts';
import { jetcelDomain } from '../src/jetcel-domain.ts';

// Executions started from task outcomes, in the reference domain through the test kit: the daily
// backup schedule (a background task, as beat publishes it, schedules `instance.backup` on the
// heavy queue for each instance due, keeping `retention` backups) and the pull after create.

let cloud: Awaited<ReturnType<typeof startCloud>>;
let runtime: TestRuntime;
before(async () => {
  cloud = await startCloud({ buildDelayMs: 100, snapshotDelayMs: 50 });
  const env = {
    CLOUD_URL: cloud.url,
    INSTANCE_POLL_INTERVAL_MS: '100',
    INSTANCE_PULL_AFTER_CREATE: '1',
    // Every check finds the backup due again: one backup per check.
    INSTANCE_BACKUP_INTERVAL_MS: '0',
  };
  runtime = await startTestRuntime({ domains: [jetcelDomain({ ...process.env, ...env })], env });
});
after(async () => {
  await runtime?.stop();
  await cloud?.close();
});

/** Polls `probe` until it answers something, for up to 20 s. */
async function eventually<T>(probe: () => Promise<T | undefined>, what: string): Promise<T> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** The executions of `executor` on the instance, oldest first. */
async function executions(instanceId: string, executor: string) {
  const all = await runtime.db.read((tx) =>
    tx.executions.list({ resourceType: 'instance', resourceId: instanceId, limit: 100 }),
  );
  return all.filter((execution) => execution.executor === executor).reverse();
}

/** Waits until no backup check is queued or running. */
const checksDone = () =>
  eventually(
    async () =>
      (await runtime.db.transaction((tx) => tx.backgroundRuns.lockActiveOf(BACKUP_SCHEDULES_TASK))).length === 0
        ? true
        : undefined,
    'the check to finish',
  );

async function createInstance(name: string): Promise<{ id: string; executionId: string }> {
  const created = await runtime.ok<{ id: string; executionId: string }>('cmd.instance.create', {
    name,
    cloudSettingsId: 'default',
  });
  const run = await runtime.run(created.executionId);
  assert.equal(run.execution.status, 'succeeded', run.execution.errorMessage);
  return created;
}

/** The execution of `executor` on the instance after the first `known`, once it has ended. */
async function nextRun(instanceId: string, executor: string, known: number) {
  const started = await eventually(
    async () => {
      const rows = await executions(instanceId, executor);
      return rows.length > known ? rows[known] : undefined;
    },
    `${executor} number ${known + 1}`,
  );
  return runtime.run(started.id);
}

test("pull after create: the create's success handler schedules instance.pull in its commit", async () => {
  const { id, executionId } = await createInstance('pulled-vm');
  const created = await runtime.run(executionId);
  assert.deepEqual(
    created.steps.map((step) => [step.role, step.task, step.status]),
    [
      ['main', 'instance.create_server', 'succeeded'],
      ['main', 'instance.poll_server', 'succeeded'],
      ['success', 'instance.created', 'succeeded'],
    ],
  );
  const pull = await nextRun(id, 'instance.pull', 0);
  assert.equal(pull.execution.status, 'succeeded', pull.execution.errorMessage);
  assert.equal(pull.execution.actor, created.execution.actor);
  assert.equal(pull.resource?.state, 'OK');
  // OK and UPDATE_SCHEDULED in one commit: the create ends where the pull begins.
  assert.deepEqual(
    pull.events.map((event) => event.to),
    ['CREATION_SCHEDULED', 'CREATING', 'OK', 'UPDATE_SCHEDULED', 'UPDATING', 'OK'],
  );
});

const check = () =>
  runtime.db.transaction((tx) => enqueueBackground(tx, runtime.domains.tasks, { task: BACKUP_SCHEDULES_TASK }));

test('a daily backup schedule: each check due schedules instance.backup on the heavy queue; retention keeps the newest', async () => {
  const { id } = await createInstance('backed-up-vm');
  await nextRun(id, 'instance.pull', 0);
  const manual = await runtime.ok<{ executionId: string }>('cmd.instance.backup', { id, name: 'by-hand' });
  assert.equal((await runtime.run(manual.executionId)).execution.status, 'succeeded');

  const scheduled = await runtime.ok<{ id: string }>('cmd.instance.set_backup_schedule', { id, retention: 2 });
  assert.equal(scheduled.id, id);
  for (let round = 0; round < 3; round++) {
    assert.equal((await check()).kind, 'queued');
    const backup = await nextRun(id, 'instance.backup', round + 1);
    assert.equal(backup.execution.status, 'succeeded', backup.execution.errorMessage);
    assert.ok(
      backup.steps.every((step) => step.queue === 'heavy'),
      `every step on tasks.heavy: ${backup.steps.map((step) => `${step.task}@${step.queue}`).join(', ')}`,
    );
    assert.deepEqual(
      backup.steps.map((step) => step.task),
      ['instance.create_snapshot', 'instance.prune_backups', 'jetcel.set_ok'],
    );
  }
  const instance = await runtime.resource('instance', id);
  assert.equal(instance?.fields.backupRetention, 2);
  assert.equal(typeof instance?.fields.backupNextAt, 'string', 'the next backup is due');
  const snapshots = (await (
    await fetch(`${cloud.url}/servers/${String(instance?.backendId)}/snapshots`)
  ).json()) as Array<{
    name: string;
  }>;
  const names = snapshots.map((snapshot) => snapshot.name);
  assert.equal(names.length, 3, `the hand-made backup and the newest two: ${names.join(', ')}`);
  assert.equal(names[0], 'by-hand', 'a backup not taken by the schedule is left alone');
  assert.ok(names.slice(1).every((name) => name.startsWith('daily-')));

  // Without a schedule, a check schedules nothing.
  await runtime.ok('cmd.instance.set_backup_schedule', { id, retention: null });
  assert.equal((await check()).kind, 'queued');
  await checksDone();
  assert.equal((await executions(id, 'instance.backup')).length, 4);
});

test('a busy instance refuses its scheduled backup: skipped and logged, the check itself succeeds', async () => {
  const { id } = await createInstance('busy-vm');
  await nextRun(id, 'instance.pull', 0);
  await runtime.ok('cmd.instance.set_backup_schedule', { id, retention: 1 });
  // Busy: an operation scheduled on it when the check commits.
  await runtime.db.transaction(async (tx) => {
    const current = await tx.resources.get('instance', id, { forUpdate: true });
    assert.ok(current);
    await tx.resources.applyPatch(current, { transition: 'schedule_updating' }, { executionId: null, actor: null });
  });
  assert.equal((await check()).kind, 'queued');
  await checksDone();
  assert.deepEqual(await executions(id, 'instance.backup'), []);
  assert.equal((await runtime.resource('instance', id))?.state, 'UPDATE_SCHEDULED');
});
