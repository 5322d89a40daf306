import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Stack } from '../stack.ts';

let stack: Stack;
before(async () => {
  stack = await Stack.start({ buildDelayMs: 150 });
  await stack.spawn('executor');
  await stack.spawn('worker', { queue: 'regular' });
});
after(async () => {
  await stack?.stop();
});

const states = async (id: string) =>
  (await stack.sql<{ state: string }>('select state from ref_instance where id = $1', [id]))[0]?.state;

test('B2: an update (rename) moves OK → UPDATE_SCHEDULED in the command transaction and pushes the name to the backend', async () => {
  const { id } = await stack.readyInstance('before-rename');
  const reply = await stack.ok<{ state: string; executionId: string; name: string }>('cmd.instance.rename', {
    id,
    name: 'after-rename',
  });
  assert.equal(reply.state, 'UPDATE_SCHEDULED');
  assert.equal(reply.name, 'after-rename');
  const execution = await stack.waitForExecution(reply.executionId);
  assert.equal(execution.status, 'succeeded');
  const instance = await stack.instance(id);
  assert.equal(instance.state, 'OK');
  const server = (await fetch(`${stack.cloud.url}/servers/${String(instance.backendId)}`).then((r) => r.json())) as {
    name: string;
  };
  assert.equal(server.name, 'after-rename');
});

test('B3: update, delete and action from a state other than OK/ERRED fail at once with INVALID_STATE and queue nothing', async () => {
  const created = await stack.ok<{ id: string }>('cmd.instance.create', { name: 'busy', cloudSettingsId: 'default' });
  const before = await stack.sql('select id from jetcel_execution');
  for (const [subject, body] of [
    ['cmd.instance.rename', { id: created.id, name: 'other' }],
    ['cmd.instance.delete', { id: created.id }],
    ['cmd.instance.resize', { id: created.id, flavor: 'large' }],
  ] as const) {
    const reply = await stack.request(subject, body);
    assert.equal(reply.ok ? 'ok' : reply.error.code, 'INVALID_STATE', subject);
  }
  assert.equal((await stack.sql('select id from jetcel_execution')).length, before.length);
  await stack.waitForState(created.id, 'OK');
});

test('B3: an action on a resource already UPDATE_SCHEDULED is a no-op: ok with noop true, nothing queued', async () => {
  const { id } = await stack.readyInstance('noop-target');
  // Put the instance in UPDATE_SCHEDULED as an earlier action's command transaction would leave it.
  await stack.sql("update ref_instance set state = 'UPDATE_SCHEDULED', version = version + 1 where id = $1", [id]);
  const executions = (await stack.sql('select id from jetcel_execution')).length;
  const reply = await stack.ok<{ noop: boolean; executionId: string | null; state: string; action: string }>(
    'cmd.instance.stop',
    { id },
  );
  assert.deepEqual([reply.noop, reply.executionId, reply.state, reply.action], [true, null, 'UPDATE_SCHEDULED', '']);
  assert.equal((await stack.sql('select id from jetcel_execution')).length, executions);
  await stack.sql("update ref_instance set state = 'OK', version = version + 1 where id = $1", [id]);
});

test('resize of a running instance: OK → UPDATE_SCHEDULED (command tx) → UPDATING → OK, action recorded then cleared (B4)', async () => {
  const { id } = await stack.readyInstance('resize-me');
  const seen = new Set<string>();
  const reply = await stack.ok<{
    state: string;
    action: string;
    actionDetails: Record<string, unknown>;
    executionId: string;
  }>('cmd.instance.resize', { id, flavor: 'large' });
  assert.equal(reply.state, 'UPDATE_SCHEDULED');
  assert.equal(reply.action, 'Resize');
  assert.deepEqual(reply.actionDetails, {
    message: 'Resize from small to large',
    old_flavor: 'small',
    new_flavor: 'large',
  });
  const execution = await stack.waitForExecution(reply.executionId);
  assert.equal(execution.status, 'succeeded');
  const events = await stack.sql<{ payload: string }>(
    'select payload from jetcel_outbox where subject like $1 order by created_at',
    [`events.instance.${id}.%`],
  );
  for (const event of events) seen.add((JSON.parse(event.payload) as { to: string }).to);
  assert.ok(
    ['UPDATE_SCHEDULED', 'UPDATING', 'OK'].every((state) => seen.has(state)),
    [...seen].join(','),
  );
  const instance = await stack.instance(id);
  assert.deepEqual([instance.state, instance.flavor, instance.action, instance.actionDetails], ['OK', 'large', '', {}]);
});

test('a resize the backend rejects ends ERRED with the backend message, action cleared', async () => {
  const { id } = await stack.readyInstance('resize-rejected');
  await stack.fault({ op: 'action', mode: 'error', message: 'Flavor large is not available in this zone', count: 1 });
  const reply = await stack.ok<{ executionId: string }>('cmd.instance.resize', { id, flavor: 'large' });
  const execution = await stack.waitForExecution(reply.executionId);
  assert.equal(execution.status, 'failed');
  const instance = await stack.instance(id);
  assert.deepEqual(
    [instance.state, instance.errorMessage, instance.action, instance.flavor],
    ['ERRED', 'Flavor large is not available in this zone', '', 'small'],
  );
  assert.ok(String(instance.errorTraceback).length > 0);
});

test('B5: delete removes the row; a failed delete leaves it ERRED; force (the default for ERRED) deletes it anyway', async () => {
  const first = await stack.readyInstance('delete-ok');
  const deleted = await stack.ok<{ state: string; executionId: string }>('cmd.instance.delete', { id: first.id });
  assert.equal(deleted.state, 'DELETION_SCHEDULED');
  assert.equal((await stack.waitForExecution(deleted.executionId)).status, 'succeeded');
  assert.equal(await states(first.id), undefined);
  const history = await stack.ok<{ items: Array<{ executor: string }> }>('query.execution.list', {
    resourceType: 'instance',
    resourceId: first.id,
  });
  assert.deepEqual(
    history.items.map((item) => item.executor).sort(),
    ['instance.create', 'instance.delete'],
    'history survives the delete',
  );

  const second = await stack.readyInstance('delete-fails');
  await stack.fault({ op: 'delete', mode: 'error', message: 'Server is locked', count: 1 });
  const failed = await stack.ok<{ executionId: string }>('cmd.instance.delete', { id: second.id });
  assert.equal((await stack.waitForExecution(failed.executionId)).status, 'failed');
  const erred = await stack.instance(second.id);
  assert.deepEqual([erred.state, erred.errorMessage], ['ERRED', 'Server is locked']);

  await stack.fault({ op: 'delete', mode: 'error', message: 'Still locked', count: 1 });
  const forced = await stack.ok<{ executionId: string }>('cmd.instance.delete', { id: second.id });
  assert.equal((await stack.waitForExecution(forced.executionId)).status, 'failed');
  assert.equal(await states(second.id), undefined, 'force deleted the row although the backend refused');
});

test('pull refreshes from the backend; from ERRED a good pull recovers OK and clears the error', async () => {
  const { id } = await stack.readyInstance('pull-me');
  await stack.sql(
    "update ref_instance set state = 'ERRED', error_message = 'stale', version = version + 1 where id = $1",
    [id],
  );
  const reply = await stack.ok<{ executionId: string }>('cmd.instance.pull', { id });
  assert.equal((await stack.waitForExecution(reply.executionId)).status, 'succeeded');
  const instance = await stack.instance(id);
  assert.deepEqual([instance.state, instance.errorMessage, instance.runtimeState], ['OK', '', 'ACTIVE']);
});

test('start and stop are actions that poll until the power state is reached', async () => {
  const { id } = await stack.readyInstance('power');
  const stop = await stack.ok<{ executionId: string; action: string }>('cmd.instance.stop', { id });
  assert.equal(stop.action, 'Stop');
  assert.equal((await stack.waitForExecution(stop.executionId)).status, 'succeeded');
  assert.equal((await stack.instance(id)).runtimeState, 'SHUTOFF');
  const start = await stack.ok<{ executionId: string }>('cmd.instance.start', { id });
  assert.equal((await stack.waitForExecution(start.executionId)).status, 'succeeded');
  assert.equal((await stack.instance(id)).runtimeState, 'ACTIVE');
});

test('volume extend: an action that grows the volume; a failed extend marks the volume and its instance ERRED (item 41)', async () => {
  const created = await stack.ok<{ id: string; volumeIds: string[] }>('cmd.instance.create', {
    name: 'with-disk',
    cloudSettingsId: 'default',
    volumes: [{ name: 'disk', size: 10 }],
  });
  await stack.waitForState(created.id, 'OK');
  const [volumeId] = created.volumeIds;
  assert.ok(volumeId);
  const grown = await stack.ok<{ executionId: string; action: string; actionDetails: Record<string, unknown> }>(
    'cmd.volume.extend',
    { id: volumeId, size: 20 },
  );
  assert.equal(grown.action, 'Extend');
  assert.deepEqual(grown.actionDetails, { message: 'Extend from 10 to 20 GiB', old_size: 10, new_size: 20 });
  assert.equal((await stack.waitForExecution(grown.executionId)).status, 'succeeded');
  assert.deepEqual(await stack.ok('query.volume.get', { id: volumeId }).then((v) => [v.state, v.size, v.action]), [
    'OK',
    20,
    '',
  ]);
  const shrink = await stack.request('cmd.volume.extend', { id: volumeId, size: 5 });
  assert.equal(shrink.ok ? 'ok' : shrink.error.code, 'VALIDATION_FAILED');

  await stack.fault({
    op: 'action',
    resource: 'volume',
    mode: 'error',
    message: 'Not enough space in the pool',
    count: 1,
  });
  const failed = await stack.ok<{ executionId: string }>('cmd.volume.extend', { id: volumeId, size: 40 });
  assert.equal((await stack.waitForExecution(failed.executionId)).status, 'failed');
  const volume = await stack.ok<{ state: string; errorMessage: string }>('query.volume.get', { id: volumeId });
  assert.deepEqual([volume.state, volume.errorMessage], ['ERRED', 'Not enough space in the pool']);
  const instance = await stack.instance(created.id);
  assert.equal(instance.state, 'ERRED');
  assert.match(String(instance.errorMessage), /failed to extend: Not enough space in the pool/);
});
