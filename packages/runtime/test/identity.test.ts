import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defineExecutor, type ResourceSnapshot } from '@jetcel/core';
import { keyRing, signIdentityToken } from '@jetcel/identity';
import { authorizeExecutor, identifyCaller, requireActorOrAdmin } from '../src/command/identity.ts';

const secret = 'a-test-secret-of-at-least-32-characters';
const keys = keyRing([{ kid: 'default', secret }]);
const deny = { keys, anonymous: 'deny' as const, maxTtlSeconds: 86400 };
const allow = { keys, anonymous: 'allow' as const, maxTtlSeconds: 86400 };
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
const code = (name: string) => (error: unknown) => (error as { code?: string }).code === name;

test('a valid token is the caller, verified, with its roles; header names are case-insensitive', async () => {
  const token = await signIdentityToken({ actor: 'alice', roles: ['admin'] }, secret);
  assert.deepEqual(await identifyCaller({ authorization: `Bearer ${token}` }, deny), {
    actor: 'alice',
    roles: ['admin'],
    verified: true,
  });
  // An Actor header naming the token's subject is accepted; any other is refused.
  assert.equal((await identifyCaller({ ...bearer(token), Actor: 'alice' }, deny)).actor, 'alice');
  await assert.rejects(identifyCaller({ ...bearer(token), Actor: 'mallory' }, allow), code('UNAUTHENTICATED'));
});

test('forged, expired, alg:none, malformed and unverifiable tokens are UNAUTHENTICATED under either policy', async () => {
  const forged = await signIdentityToken(
    { actor: 'alice', roles: ['admin'] },
    'another-secret-of-at-least-32-characters',
  );
  const expired = await signIdentityToken({ actor: 'alice', roles: [] }, secret, {
    ttlSeconds: 60,
    now: new Date(Date.now() - 3_600_000),
  });
  const [, claims] = (await signIdentityToken({ actor: 'alice', roles: ['admin'] }, secret)).split('.');
  const none = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${claims}.`;
  for (const policy of [deny, allow]) {
    for (const token of [forged, expired, none, 'not-a-jwt'])
      await assert.rejects(identifyCaller(bearer(token), policy), code('UNAUTHENTICATED'), token);
    await assert.rejects(identifyCaller({ Authorization: 'Basic abc' }, policy), code('UNAUTHENTICATED'));
  }
  const valid = await signIdentityToken({ actor: 'alice', roles: [] }, secret);
  await assert.rejects(
    identifyCaller(bearer(valid), { keys: null, anonymous: 'allow', maxTtlSeconds: 86400 }),
    (error: Error) => code('UNAUTHENTICATED')(error) && /JETCEL_AUTH_SECRET/.test(error.message),
  );
});

test('without a token: deny refuses, allow lets in the unverified Actor header or "anonymous"', async () => {
  await assert.rejects(identifyCaller({}, deny), code('UNAUTHENTICATED'));
  await assert.rejects(identifyCaller({ Actor: 'alice' }, deny), code('UNAUTHENTICATED'));
  assert.deepEqual(await identifyCaller({ Actor: 'alice' }, allow), { actor: 'alice', roles: [], verified: false });
  assert.deepEqual(await identifyCaller({}, allow), { actor: 'anonymous', roles: [], verified: false });
});

const resource = { type: 'thing', id: 't1', fields: { owner: 'alice' } } as unknown as ResourceSnapshot;
const executor = defineExecutor({
  name: 'thing.delete',
  kind: 'delete',
  resourceType: 'thing',
  tasks: ['x'],
  steps: () => [{ task: 'x' }],
  authorize: async (identity, action, target) => action === 'thing.delete' && target.fields.owner === identity.actor,
});

test('authorizeExecutor asks the hook for verified callers: false is FORBIDDEN; anonymous (allow) passes', async () => {
  await authorizeExecutor({ actor: 'alice', roles: [], verified: true }, executor, resource);
  await assert.rejects(
    authorizeExecutor({ actor: 'bob', roles: [], verified: true }, executor, resource),
    code('FORBIDDEN'),
  );
  await authorizeExecutor({ actor: 'bob', roles: [], verified: false }, executor, resource);
  const { authorize: _unused, ...open } = executor;
  await authorizeExecutor({ actor: 'bob', roles: [], verified: true }, { ...open }, resource);
});

test("requireActorOrAdmin: the execution's actor or an admin; nobody for an ownerless target but an admin", () => {
  const target = { type: 'execution', id: 'e1' };
  requireActorOrAdmin({ actor: 'alice', roles: [], verified: true }, 'alice', 'cancel', target);
  requireActorOrAdmin({ actor: 'root', roles: ['admin'], verified: true }, 'alice', 'cancel', target);
  requireActorOrAdmin({ actor: 'anonymous', roles: [], verified: false }, 'alice', 'cancel', target);
  assert.throws(
    () => requireActorOrAdmin({ actor: 'bob', roles: [], verified: true }, 'alice', 'cancel', target),
    code('FORBIDDEN'),
  );
  assert.throws(
    () => requireActorOrAdmin({ actor: 'bob', roles: [], verified: true }, null, 'redrive', target),
    code('FORBIDDEN'),
  );
});
