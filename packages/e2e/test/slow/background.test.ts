import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Db } from '@jetcel/db';
import { createReferenceDomain } from '@jetcel/reference';
import {
  createStandalonePublisher,
  enqueueBackground,
  PROVISIONING_TIMED_OUT,
  type BackgroundRequest,
} from '@jetcel/runtime';
import { eventually, type ServiceProcess } from '@jetcel/testing';
import { Stack } from '../stack.ts';

// Background runs and their equality, list and background pulls, the watchdogs,
// and standalone tasks, on real NATS and PostgreSQL with the services as processes.
const domain = createReferenceDomain();
let stack: Stack;
let db: Db;
let background: ServiceProcess;
before(async () => {
  stack = await Stack.start();
  db = await Db.connect({ url: stack.database.url, entities: domain.entities, poolMax: 2 });
  await stack.spawn('executor');
  await stack.spawn('worker', { queue: 'regular' });
});
after(async () => {
  await db?.close();
  await stack?.stop();
});

const enqueue = (request: BackgroundRequest) => db.transaction((tx) => enqueueBackground(tx, domain.tasks, request));
const runRows = () =>
  stack.sql<{ task: string; equality_key: string | null }>('select task, equality_key from jetcel_background_run');
const noRunsLeft = async () => (await runRows()).length === 0;
const instanceRow = async (id: string) =>
  (
    await stack.sql<{ state: string; error_message: string; version: number; backend_id: string }>(
      'select state, error_message, version, backend_id from ref_instance where id = $1',
      [id],
    )
  )[0];

let a: string;
let b: string;

test('E2: an equal background task is not queued while one is queued or running; another resource is', async () => {
  a = (await stack.readyInstance('bg-a')).id;
  b = (await stack.readyInstance('bg-b')).id;
  const pull = (id: string): BackgroundRequest => ({ task: 'instance.background_pull', resource: `instance:${id}` });
  assert.equal((await enqueue(pull(a))).kind, 'queued');
  assert.equal((await enqueue(pull(a))).kind, 'skipped', 'the same pull while the first is queued');
  const concurrent = await Promise.all(Array.from({ length: 4 }, () => enqueue(pull(a))));
  assert.ok(concurrent.every((result) => result.kind === 'skipped'));
  assert.equal((await enqueue(pull(b))).kind, 'queued', 'the pull of another instance is not equal');
  assert.equal((await enqueue({ task: 'instance.list_pull' })).kind, 'queued');
  assert.equal((await enqueue({ task: 'instance.list_pull' })).kind, 'skipped', 'equality by name');
  assert.deepEqual(
    (await runRows()).map((row) => row.equality_key).sort(),
    ['instance.background_pull|instance:' + a, 'instance.background_pull|instance:' + b, 'instance.list_pull'].sort(),
  );
  await assert.rejects(enqueue({ task: 'no.such_task' }), /Unknown background task/);
  background = await stack.spawn('worker', { queue: 'background' });
  await eventually(noRunsLeft, { timeoutMs: 10_000, message: 'the queued runs finish and free their equality' });
  assert.equal((await enqueue(pull(a))).kind, 'queued', 'queued again once the equal run finished');
  await eventually(noRunsLeft, { timeoutMs: 10_000, message: 'the new pull finishes' });
});

test('E4: list-pull queues one pull per OK/ERRED instance with a backend id; a good pull recovers ERRED', async () => {
  await stack.sql(
    "update ref_instance set state = 'ERRED', error_message = 'old error', version = version + 1 where id = $1",
    [b],
  );
  const creating = randomUUID();
  const noBackend = randomUUID();
  await stack.sql(
    `insert into ref_instance (id, state, name, cloud_settings_id, backend_id) values
       ($1, 'CREATING', 'bg-creating', 'default', 'srv-somewhere'), ($2, 'OK', 'bg-no-backend', 'default', null)`,
    [creating, noBackend],
  );
  const since = (await stack.sql<{ now: Date }>('select now()'))[0]?.now;
  assert.equal((await enqueue({ task: 'instance.list_pull' })).kind, 'queued');
  await eventually(
    async () =>
      (await noRunsLeft()) &&
      (
        await stack.sql('select 1 from jetcel_outbox where created_at > $1 and payload like $2', [
          since,
          '%background_pull%',
        ])
      ).length >= 2,
    {
      timeoutMs: 10_000,
      message: 'the list pull and its pulls ran',
    },
  );
  const pulled = await stack.sql<{ payload: string }>(
    "select payload from jetcel_outbox where subject = 'tasks.background' and created_at > $1 and payload like $2",
    [since, '%"instance.background_pull"%'],
  );
  const resources = pulled.map((row) => (JSON.parse(row.payload) as { resource: string }).resource).sort();
  assert.deepEqual(
    resources,
    [`instance:${a}`, `instance:${b}`].sort(),
    'one pull each; none for CREATING or no backend id',
  );
  const recovered = await stack.waitForState(b, 'OK', 10_000);
  assert.equal(recovered.error_message, '', 'a good pull recovers ERRED to OK and clears the error');
  await stack.sql('delete from ref_instance where id in ($1, $2)', [creating, noBackend]);
});

test('E4: a pull error marks the instance ERRED (quietly when it already is); a later good pull recovers it', async () => {
  const pullA = () => enqueue({ task: 'instance.background_pull', resource: `instance:${a}` });
  await stack.fault({ op: 'get', resource: 'server', mode: 'error', message: 'the cloud refused the read', count: 1 });
  await pullA();
  const erred = await stack.waitForState(a, 'ERRED', 10_000);
  assert.equal(erred.error_message, 'the cloud refused the read');
  await eventually(noRunsLeft, { timeoutMs: 10_000 });
  await pullA();
  assert.equal((await stack.waitForState(a, 'OK', 10_000)).error_message, '');
  // The server goes away at the cloud behind jetcel's back.
  const { backend_id: backendId } = (await instanceRow(a))!;
  await fetch(`${stack.cloud.url}/servers/${backendId}`, { method: 'DELETE' });
  await eventually(async () => (await fetch(`${stack.cloud.url}/servers/${backendId}`)).status === 404, {
    message: 'the server is gone at the cloud',
  });
  await eventually(noRunsLeft, { timeoutMs: 10_000 });
  await pullA();
  const gone = await stack.waitForState(a, 'ERRED', 10_000);
  assert.equal(gone.error_message, 'Does not exist at backend.');
  await eventually(noRunsLeft, { timeoutMs: 10_000 });
  await pullA();
  await eventually(noRunsLeft, { timeoutMs: 10_000, message: 'the second failing pull ran' });
  const quiet = await instanceRow(a);
  assert.deepEqual([quiet?.state, quiet?.version], ['ERRED', gone.version], 'no new transition, nothing written');
});

test('E5: stuck provisioning becomes ERRED "Provisioning has timed out." and its execution is cancelled', async () => {
  await stack.fault({ op: 'build', resource: 'server', mode: 'timeout', count: 2 });
  const stuck = await stack.ok<{ id: string; executionId: string }>('cmd.instance.create', {
    name: 'bg-stuck',
    cloudSettingsId: 'default',
  });
  await stack.waitForState(stuck.id, 'CREATING');
  await new Promise((resolve) => setTimeout(resolve, 1800)); // past the 1.5 s limit
  const fresh = await stack.ok<{ id: string; executionId: string }>('cmd.instance.create', {
    name: 'bg-fresh',
    cloudSettingsId: 'default',
  });
  await stack.waitForState(fresh.id, 'CREATING');
  await enqueue({ task: 'jetcel.stuck_provisioning', args: { timeoutMs: 1500 } });
  const erred = await stack.waitForState(stuck.id, 'ERRED', 10_000);
  assert.equal(erred.error_message, PROVISIONING_TIMED_OUT);
  const execution = await stack.waitForExecution(stuck.executionId, 10_000);
  assert.equal(execution.status, 'cancelled');
  assert.ok(execution.steps.some((step) => step.role === 'failure' && step.status === 'succeeded'));
  const after = await instanceRow(stuck.id);
  assert.deepEqual([after?.state, after?.error_message], ['ERRED', PROVISIONING_TIMED_OUT], 'the cancel keeps it');
  assert.equal((await instanceRow(fresh.id))?.state, 'CREATING', 'recently modified: untouched');
  await stack.ok('cmd.execution.cancel', { id: fresh.executionId });
});

test('E5: reset_updating returns UPDATING resources whose execution finished to OK, not those still running', async () => {
  const stale = (await stack.readyInstance('bg-stale-updating')).id;
  await stack.sql("update ref_instance set state = 'UPDATING', version = version + 1 where id = $1", [stale]);
  const busy = (await stack.readyInstance('bg-busy')).id;
  await stack.fault({ op: 'update', resource: 'server', mode: 'delay', delayMs: 3000, count: 1 });
  await stack.ok('cmd.instance.rename', { id: busy, name: 'bg-busy-renamed' });
  await stack.waitForState(busy, 'UPDATING');
  await enqueue({ task: 'jetcel.reset_updating' });
  await stack.waitForState(stale, 'OK', 10_000);
  await eventually(noRunsLeft, { timeoutMs: 10_000 });
  assert.equal((await instanceRow(busy))?.state, 'UPDATING', 'its rename is still running');
  await stack.waitForState(busy, 'OK', 10_000);
});

test('C11: a standalone task published directly runs once, with no execution and no run row', async () => {
  const executions = async () =>
    Number((await stack.sql<{ n: string }>('select count(*) as n from jetcel_execution'))[0]?.n);
  const before = await executions();
  const publisher = createStandalonePublisher(stack.bus, { catalog: domain.tasks });
  const { msgId } = await publisher.publish('jetcel.heartbeat_tick', {});
  const finished = (line: string) => line.includes('"standalone task finished"') && line.includes(msgId);
  await eventually(() => background.output().some(finished), { timeoutMs: 10_000, message: 'the standalone task ran' });
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(background.output().filter(finished).length, 1);
  assert.equal(await executions(), before, 'no execution row');
  assert.equal((await runRows()).length, 0, 'no background run row');
  await assert.rejects(publisher.publish('instance.pull', {}), /not a background task/);
});
