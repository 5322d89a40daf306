import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { requestJson } from '@jetcel/bus';
import type { ExecutionView, Reply } from '@jetcel/contracts';
import { signIdentityToken } from '@jetcel/identity';
import { dataOf, Stack } from './stack.ts';

// Reads are tenant-scoped: every query asks the read policy (owner or admin), lists are filtered in
// SQL, tracebacks are an admin's, operator subjects are an admin's. Production policy: deny.
const secret = 'e2e-reads-secret-of-at-least-32-characters';
const bearer = async (actor: string, roles: string[] = []): Promise<Record<string, string>> => ({
  Authorization: `Bearer ${await signIdentityToken({ actor, roles }, secret)}`,
});
let alice: Record<string, string>;
let bob: Record<string, string>;
let admin: Record<string, string>;

let stack: Stack;
let alices: { id: string; executionId: string };
let bobs: { id: string; executionId: string };
let project: { id: string };

before(async () => {
  [alice, bob, admin] = await Promise.all([bearer('alice'), bearer('bob'), bearer('root', ['admin'])]);
  stack = await Stack.start({ env: { JETCEL_AUTH_SECRET: secret, JETCEL_AUTH_ANONYMOUS: 'deny' } });
  stack.requestHeaders = admin;
  await stack.spawn('executor');
  await stack.spawn('worker', { queue: 'regular' });
  bobs = await ready(bob, 'bobs-vm');
  project = dataOf<{ id: string }>(await send('cmd.project.create', { name: 'alices-project' }, alice));
  alices = await ready(alice, 'alices-vm', { projectId: project.id, volumes: [{ name: 'alices-disk', size: 1 }] });
  for (const name of ['alice-2', 'alice-3']) await ready(alice, name); // newer than bob's: a limit must not hide his
});
after(async () => {
  await stack?.stop();
});

function send(subject: string, body: unknown, headers: Record<string, string>): Promise<Reply> {
  return requestJson(stack.bus, subject, JSON.stringify(body), { timeoutMs: 10_000, headers }) as Promise<Reply>;
}

async function ready(
  headers: Record<string, string>,
  name: string,
  extra: Record<string, unknown> = {},
): Promise<{ id: string; executionId: string }> {
  const created = dataOf<{ id: string; executionId: string }>(
    await send('cmd.instance.create', { name, cloudSettingsId: 'default', ...extra }, headers),
  );
  await stack.waitForExecution(created.executionId);
  return created;
}

function errorOf(reply: Reply): { code: string; message: string; details?: unknown } {
  assert.equal(reply.ok, false, JSON.stringify(reply));
  return reply.ok ? { code: '', message: '' } : reply.error;
}

/** The refusal is the reply an unknown id gets (with the id swapped), and carries nothing of the resource. */
function assertLikeUnknown(refused: Reply, unknown: Reply, id: string, unknownId: string): void {
  const text = JSON.stringify(refused);
  assert.equal(text.split(id).join(unknownId), JSON.stringify(unknown));
  for (const leak of ['alice', 'alices-vm', 'alices-project', 'alices-disk', 'CREATION', '"OK"'])
    assert.ok(!text.includes(leak), `${leak} in ${text}`);
}

const volumeOf = async (instanceId: string): Promise<string> =>
  (await stack.sql<{ id: string }>('select id from ref_volume where instance_id = $1', [instanceId]))[0]?.id ?? '';

test("bob cannot get alice's instance, volume, project or execution: NOT_FOUND, like an unknown id", async () => {
  const volumeId = await volumeOf(alices.id);
  const gets: Array<[string, string]> = [
    ['query.instance.get', alices.id],
    ['query.volume.get', volumeId],
    ['query.project.get', project.id],
    ['query.execution.get', alices.executionId],
  ];
  for (const [subject, id] of gets) {
    const unknownId = randomUUID();
    const refused = await send(subject, { id }, bob);
    assert.equal(errorOf(refused).code, 'NOT_FOUND', subject);
    assertLikeUnknown(refused, await send(subject, { id: unknownId }, bob), id, unknownId);
    assert.equal((await send(subject, { id }, alice)).ok, true, `alice reads her own: ${subject}`);
    assert.equal((await send(subject, { id }, admin)).ok, true, `an admin reads all: ${subject}`);
  }
  const unknownId = randomUUID();
  const resource = await send('query.resource.get', { type: 'instance', id: alices.id }, bob);
  assert.equal(errorOf(resource).code, 'NOT_FOUND');
  assertLikeUnknown(
    resource,
    await send('query.resource.get', { type: 'instance', id: unknownId }, bob),
    alices.id,
    unknownId,
  );
  const own = dataOf<{ id: string; fields: { owner: string } }>(
    await send('query.resource.get', { type: 'instance', id: bobs.id }, bob),
  );
  assert.deepEqual([own.id, own.fields.owner], [bobs.id, 'bob']);
});

test("bob's commands on alice's resources answer NOT_FOUND too, and write nothing", async () => {
  const version = (await stack.instance(alices.id)).version;
  for (const [subject, body] of [
    ['cmd.instance.stop', { id: alices.id }],
    ['cmd.instance.delete', { id: alices.id }],
    ['cmd.execution.cancel', { id: alices.executionId }],
  ] as const)
    assert.equal(errorOf(await send(subject, body, bob)).code, 'NOT_FOUND', subject);
  assert.equal((await stack.instance(alices.id)).version, version);
});

test('a list returns only what the caller may read, filtered before the limit; an admin sees all', async () => {
  const names = (reply: Reply) => dataOf<{ items: Array<{ name: string }> }>(reply).items.map((item) => item.name);
  assert.deepEqual(names(await send('query.instance.list', { limit: 1 }, bob)), ['bobs-vm']);
  assert.deepEqual(names(await send('query.instance.list', {}, bob)), ['bobs-vm']);
  assert.deepEqual(names(await send('query.instance.list', {}, alice)), ['alice-3', 'alice-2', 'alices-vm']);
  assert.deepEqual(names(await send('query.instance.list', {}, admin)), ['alice-3', 'alice-2', 'alices-vm', 'bobs-vm']);

  const resources = dataOf<{ types: Array<{ type: string; total: number }>; items: Array<{ id: string }> }>(
    await send('query.resource.list', {}, bob),
  );
  assert.deepEqual(
    resources.types.map(({ type, total }) => [type, total]),
    [
      ['instance', 1],
      ['project', 0],
      ['volume', 0],
    ],
  );
  assert.deepEqual(
    resources.items.map((item) => item.id),
    [bobs.id],
  );
  const all = dataOf<{ types: Array<{ total: number }> }>(await send('query.resource.list', {}, admin));
  assert.deepEqual(
    all.types.map((type) => type.total),
    [4, 1, 1],
  );

  const executions = (reply: Reply) => dataOf<{ items: ExecutionView[] }>(reply).items;
  const bobsExecutions = executions(await send('query.execution.list', { limit: 1 }, bob));
  assert.deepEqual(
    bobsExecutions.map((execution) => execution.id),
    [bobs.executionId],
  );
  assert.equal(executions(await send('query.execution.list', { resourceId: alices.id }, bob)).length, 0);
  const everyone = executions(await send('query.execution.list', {}, admin)).map((execution) => execution.id);
  assert.ok(everyone.includes(alices.executionId) && everyone.includes(bobs.executionId));
});

test("an execution is shown to its actor, its resource's owner and an admin; its traceback to an admin only", async () => {
  // An admin acts on alice's instance: alice is the owner, not the actor, and still sees it.
  const stopped = dataOf<{ executionId: string }>(await send('cmd.instance.stop', { id: alices.id }, admin));
  await stack.waitForExecution(stopped.executionId);
  const traceback = 'Error: boom\n    at secret-internals (/srv/app/cloud.ts:42:7)';
  await stack.sql("update jetcel_execution set error_message = 'boom', error_traceback = $2 where id = $1", [
    stopped.executionId,
    traceback,
  ]);
  await stack.sql("update ref_instance set error_message = 'boom', error_traceback = $2 where id = $1", [
    alices.id,
    traceback,
  ]);
  const seen = dataOf<ExecutionView>(await send('query.execution.get', { id: stopped.executionId }, alice));
  assert.deepEqual([seen.actor, seen.errorMessage, seen.errorTraceback], ['root', 'boom', null]);
  const listed = dataOf<{ items: ExecutionView[] }>(
    await send('query.execution.list', { resourceId: alices.id }, alice),
  );
  assert.ok(listed.items.some((execution) => execution.id === stopped.executionId));
  assert.ok(listed.items.every((execution) => execution.errorTraceback === null));
  const instance = dataOf<{ errorMessage: string; errorTraceback: string }>(
    await send('query.instance.get', { id: alices.id }, alice),
  );
  assert.deepEqual([instance.errorMessage, instance.errorTraceback], ['boom', '']);

  const byAdmin = dataOf<ExecutionView>(await send('query.execution.get', { id: stopped.executionId }, admin));
  assert.equal(byAdmin.errorTraceback, traceback);
  const instanceByAdmin = dataOf<{ errorTraceback: string }>(
    await send('query.instance.get', { id: alices.id }, admin),
  );
  assert.equal(instanceByAdmin.errorTraceback, traceback);
  assert.equal(errorOf(await send('query.execution.get', { id: stopped.executionId }, bob)).code, 'NOT_FOUND');
});

test('operator queries and dead-letter re-drive are refused to anyone but an admin, before any work', async () => {
  const operator: Array<[string, unknown]> = [
    ['query.queue.stats', {}],
    ['query.lease.list', {}],
    ['query.schedule.list', {}],
    ['query.dead_letter.list', {}],
    ['query.retention.stats', {}],
    ['cmd.dead_letter.redrive', { id: randomUUID() }],
    ['query.dead_letter.list', { limit: 'not-a-number' }],
  ];
  for (const [subject, body] of operator) {
    for (const caller of [alice, bob]) {
      const error = errorOf(await send(subject, body, caller));
      assert.equal(error.code, 'FORBIDDEN', subject);
      assert.deepEqual(Object.keys(error.details as object).sort(), ['action', 'resource']);
    }
    const byAdmin = await send(subject, body, admin);
    if (subject === 'cmd.dead_letter.redrive') assert.equal(errorOf(byAdmin).code, 'NOT_FOUND');
    else if (JSON.stringify(body).includes('not-a-number')) assert.equal(errorOf(byAdmin).code, 'VALIDATION_FAILED');
    else assert.equal(byAdmin.ok, true, `${subject}: ${JSON.stringify(byAdmin)}`);
  }
});
