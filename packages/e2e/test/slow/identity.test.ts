import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readStreamMessages, requestJson } from '@jetcel/bus';
import type { Reply } from '@jetcel/contracts';
import { keyRing, signIdentityToken } from '@jetcel/identity';
import { spawnService } from '@jetcel/testing';
import { dataOf, Stack } from '../stack.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');

// Identities on the real stack under the production policy: JETCEL_AUTH_ANONYMOUS=deny, the default.
// The executor is mid key rotation: "next" signs from now on, "default" (the old lone secret) still verifies.
const secret = 'e2e-identity-secret-of-at-least-32-chars';
const nextKey = { kid: 'next', secret: 'e2e-identity-next-secret-at-least-32-chars' };
const token = (
  actor: string,
  roles: string[] = [],
  options: { ttlSeconds?: number; maxTtlSeconds?: number; now?: Date } = {},
) => signIdentityToken({ actor, roles }, secret, options);
const bearer = (value: string) => ({ Authorization: `Bearer ${value}` });
const alice = bearer(await token('alice'));
const bob = bearer(await token('bob'));
const admin = bearer(await signIdentityToken({ actor: 'root', roles: ['admin'] }, keyRing([nextKey])));

let stack: Stack;
before(async () => {
  // A slow build keeps a create's execution running long enough to try cancelling it.
  const keys = `${nextKey.kid}:${nextKey.secret},default:${secret}`;
  // JETCEL_AUTH_ANONYMOUS empty counts as unset (the stack's own default is allow): deny by default.
  stack = await Stack.start({ env: { JETCEL_AUTH_SECRETS: keys, JETCEL_AUTH_ANONYMOUS: '' }, buildDelayMs: 1500 });
  stack.requestHeaders = admin; // the stack's own helpers (waitForState, …) read as an admin
  await stack.spawn('executor');
  await stack.spawn('worker', { queue: 'regular' });
});
after(async () => {
  await stack?.stop();
});

/** Exactly these headers (none of the stack's defaults). */
function send(subject: string, body: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  return requestJson(stack.bus, subject, JSON.stringify(body), { timeoutMs: 10_000, headers }) as Promise<Reply>;
}

function errorCode(reply: Reply): string {
  assert.equal(reply.ok, false, JSON.stringify(reply));
  return reply.ok ? '' : reply.error.code;
}

/** Rows that a command could have written: resources, executions, steps, outbox, idempotency keys. */
async function rowCounts(): Promise<Record<string, number>> {
  const tables = ['ref_instance', 'ref_volume', 'ref_project', 'jetcel_execution', 'jetcel_step', 'jetcel_outbox'];
  const counts: Record<string, number> = {};
  for (const table of [...tables, 'jetcel_idempotency_key'])
    counts[table] = Number((await stack.sql<{ n: string }>(`select count(*) as n from ${table}`))[0]?.n);
  return counts;
}

async function ready(headers: Record<string, string>, name: string): Promise<{ id: string; executionId: string }> {
  const created = dataOf<{ id: string; executionId: string }>(
    await send('cmd.instance.create', { name, cloudSettingsId: 'default' }, headers),
  );
  await stack.waitForState(created.id, 'OK');
  return created;
}

test('deny: without a token every command and query is UNAUTHENTICATED and nothing is written', async () => {
  const existing = await ready(alice, 'deny-target');
  const before = await rowCounts();
  const requests: Array<[string, unknown]> = [
    ['cmd.instance.create', { name: 'anon', cloudSettingsId: 'default' }],
    ['cmd.instance.delete', { id: existing.id }],
    ['cmd.project.create', { name: 'anon' }],
    ['cmd.execution.cancel', { id: existing.executionId }],
    ['cmd.dead_letter.redrive', { id: existing.executionId }],
    ['query.instance.get', { id: existing.id }],
    ['query.instance.list', {}],
    ['query.execution.get', { id: existing.executionId }],
    ['query.dead_letter.list', {}],
    ['query.retention.stats', {}],
    ['cmd.no_such.thing', {}],
  ];
  for (const [subject, body] of requests) {
    for (const headers of [{}, { Actor: 'alice' }, { 'Idempotency-Key': `anon-${subject}` }] as Array<
      Record<string, string>
    >)
      assert.equal(
        errorCode(await send(subject, body, headers)),
        'UNAUTHENTICATED',
        `${subject} ${JSON.stringify(headers)}`,
      );
  }
  assert.deepEqual(await rowCounts(), before);
  assert.equal((await stack.instance(existing.id)).state, 'OK');
});

test('forged, expired, alg:none, malformed, non-canonical, unknown-kid and over-long tokens are UNAUTHENTICATED; an Actor header must match the token', async () => {
  const before = await rowCounts();
  const forged = await signIdentityToken(
    { actor: 'root', roles: ['admin'] },
    'not-the-executor-secret-but-32-chars-long',
  );
  const expired = await token('alice', [], { ttlSeconds: 60, now: new Date(Date.now() - 2 * 3_600_000) });
  const [, claims] = (await token('root', ['admin'])).split('.');
  const none = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${claims}.`;
  const [head, aliceClaims, signature = ''] = (await token('alice')).split('.');
  const tampered = `${head}.${claims}.${signature}`; // alice's signature on root's admin claims
  // The same signature bytes spelled with other trailing bits in the last character.
  const twinLast = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const twin = `${head}.${aliceClaims}.${signature.slice(0, -1)}${twinLast[twinLast.indexOf(signature.at(-1) ?? '') ^ 1]}`;
  const retiredKey = await signIdentityToken(
    { actor: 'root', roles: ['admin'] },
    keyRing([{ kid: 'retired', secret }]),
  );
  const tooLong = await token('alice', [], { ttlSeconds: 2 * 24 * 3600, maxTtlSeconds: 7 * 24 * 3600 });
  const body = { name: 'intruder', cloudSettingsId: 'default' };
  for (const bad of [forged, expired, none, tampered, twin, retiredKey, tooLong, 'garbage'])
    assert.equal(errorCode(await send('cmd.instance.create', body, bearer(bad))), 'UNAUTHENTICATED', bad);
  assert.equal(
    errorCode(await send('cmd.instance.create', body, { Authorization: 'Basic YWxpY2U6eA==' })),
    'UNAUTHENTICATED',
  );
  assert.equal(errorCode(await send('query.instance.list', {}, bearer(expired))), 'UNAUTHENTICATED');
  const spoofed = await send('cmd.instance.create', body, { ...bob, Actor: 'alice' });
  assert.equal(errorCode(spoofed), 'UNAUTHENTICATED');
  assert.deepEqual(await rowCounts(), before);
});

test("the verified actor owns what it creates and is the execution's and every event's actor", async () => {
  const created = await ready({ ...alice, Actor: 'alice' }, 'alices-vm');
  const instance = dataOf<{ owner: string }>(await send('query.instance.get', { id: created.id }, alice));
  assert.equal(instance.owner, 'alice');
  assert.equal(errorCode(await send('query.instance.get', { id: created.id }, bob)), 'NOT_FOUND', "not bob's to read");
  const execution = await stack.waitForExecution(created.executionId);
  assert.equal(execution.actor, 'alice');
  const rows = await stack.sql<{ actor: string }>('select actor from jetcel_execution where id = $1', [
    created.executionId,
  ]);
  assert.equal(rows[0]?.actor, 'alice');
  const events = await readStreamMessages(stack.bus, 'EVENTS', {
    subject: `events.instance.${created.id}.state_changed`,
  });
  assert.ok(events.length >= 2, `state_changed events: ${events.length}`);
  for (const event of events) {
    const parsed = JSON.parse(Buffer.from(event.data).toString()) as { actor: string; executionId: string | null };
    assert.equal(parsed.actor, 'alice');
  }
});

test("bob may not delete, rename, resize or attach to alice's instance: NOT_FOUND (not his to see), nothing written", async () => {
  const created = await ready(alice, 'not-bobs');
  const before = await rowCounts();
  const version = (await stack.instance(created.id)).version;
  const attempts: Array<[string, unknown]> = [
    ['cmd.instance.delete', { id: created.id }],
    ['cmd.instance.delete', { id: created.id, force: true }],
    ['cmd.instance.rename', { id: created.id, name: 'bobs-now' }],
    ['cmd.instance.resize', { id: created.id, flavor: 'large' }],
    ['cmd.instance.stop', { id: created.id }],
    ['cmd.volume.create', { name: 'bobs-disk', cloudSettingsId: 'default', size: 1, instanceId: created.id }],
    ['cmd.execution.cancel', { id: created.executionId }],
    ['cmd.cloud_settings.create', { id: 'bobs-cloud', name: 'Bob' }],
  ];
  for (const [subject, body] of attempts) {
    const reply = await send(subject, body, { ...bob, 'Idempotency-Key': `bob-${subject}-${JSON.stringify(body)}` });
    // Cloud settings are an admin's to add (FORBIDDEN); alice's resources do not exist for bob.
    assert.equal(errorCode(reply), subject === 'cmd.cloud_settings.create' ? 'FORBIDDEN' : 'NOT_FOUND', subject);
  }
  assert.deepEqual(await rowCounts(), before);
  const after = await stack.instance(created.id);
  assert.deepEqual([after.state, after.name, after.flavor, after.version], ['OK', 'not-bobs', 'small', version]);
});

test("bob may not cancel alice's running execution; alice may", async () => {
  const created = dataOf<{ id: string; executionId: string }>(
    await send('cmd.instance.create', { name: 'to-cancel', cloudSettingsId: 'default' }, alice),
  );
  assert.equal(errorCode(await send('cmd.execution.cancel', { id: created.executionId }, bob)), 'NOT_FOUND');
  const status = (
    await stack.sql<{ status: string }>('select status from jetcel_execution where id = $1', [created.executionId])
  )[0]?.status;
  assert.notEqual(status, 'cancel_requested');
  const cancelled = await send('cmd.execution.cancel', { id: created.executionId }, alice);
  // The build may just have finished: then the execution is no longer cancellable, but alice was allowed.
  if (!cancelled.ok) assert.equal(errorCode(cancelled), 'INVALID_STATE');
});

test('the owner and an admin may delete; a delete is recorded with its actor', async () => {
  const own = await ready(alice, 'alice-deletes');
  const other = await ready(alice, 'admin-deletes');
  const byAlice = dataOf<{ executionId: string }>(await send('cmd.instance.delete', { id: own.id }, alice));
  const byAdmin = dataOf<{ executionId: string }>(await send('cmd.instance.delete', { id: other.id }, admin));
  assert.equal((await stack.waitForExecution(byAlice.executionId)).status, 'succeeded');
  assert.equal((await stack.waitForExecution(byAdmin.executionId)).status, 'succeeded');
  assert.equal((await stack.waitForExecution(byAdmin.executionId)).actor, 'root');
  const left = await stack.sql('select id from ref_instance where id = any($1)', [[own.id, other.id]]);
  assert.deepEqual(left, []);
});

test("Idempotency-Keys are per actor: bob reusing alice's key gets his own command run, learns nothing of hers", async () => {
  const key = { 'Idempotency-Key': 'shared-key-1' };
  const body = { name: 'keyed-vm', cloudSettingsId: 'default' };
  const first = dataOf<{ id: string; executionId: string }>(
    await send('cmd.instance.create', body, { ...alice, ...key }),
  );
  // The same key and body from bob: his own new command (no replay of alice's reply, no conflict).
  const bobs = dataOf<{ id: string; executionId: string }>(await send('cmd.instance.create', body, { ...bob, ...key }));
  assert.notEqual(bobs.id, first.id);
  // Another body under the same key from bob is a conflict with his own key only.
  const clash = await send('cmd.instance.create', { ...body, name: 'keyed-other' }, { ...bob, ...key });
  assert.equal(errorCode(clash), 'IDEMPOTENCY_CONFLICT');
  // Each retry replays its own actor's reply.
  assert.deepEqual(dataOf(await send('cmd.instance.create', body, { ...alice, ...key })), first);
  assert.deepEqual(dataOf(await send('cmd.instance.create', body, { ...bob, ...key })), bobs);
  const owners = await stack.sql<{ owner: string }>(
    "select owner from ref_instance where name = 'keyed-vm' order by owner",
  );
  assert.deepEqual(
    owners.map((row) => row.owner),
    ['alice', 'bob'],
  );
  await stack.waitForState(first.id, 'OK');
  await stack.waitForState(bobs.id, 'OK');
});

test('the first executor (default policy) does not warn; one run with allow warns at start-up', async () => {
  const [first] = stack.services;
  assert.ok(first && !first.output().some((line) => line.includes('JETCEL_AUTH_ANONYMOUS=allow')));
  const lenient = await stack.spawn('executor', { env: { JETCEL_AUTH_ANONYMOUS: 'allow' } });
  assert.ok(lenient.output().some((line) => /"level":"warn".*JETCEL_AUTH_ANONYMOUS=allow/.test(line)));
  await lenient.stop();
});

test('an executor given a dev-only- secret refuses to start, unless JETCEL_DEV=1', async () => {
  const start = (env: Record<string, string>) =>
    spawnService({
      cwd: resolve(root, 'services/executor'),
      entry: 'src/main.ts',
      env: { ...stack.env, JETCEL_AUTH_SECRETS: '', ...env },
    });
  const refused = await start({ JETCEL_AUTH_SECRET: 'dev-only-identity-secret-do-not-deploy' });
  assert.notEqual(await refused.exited, 0);
  assert.match(refused.output().join('\n'), /JETCEL_AUTH_SECRET is a publicly known development value/);
  const dev = await start({ JETCEL_AUTH_SECRET: 'dev-only-identity-secret-do-not-deploy', JETCEL_DEV: '1' });
  await dev.waitForLine(/"executor ready"/, 20_000);
  assert.equal(await dev.stop(), 0);
});
