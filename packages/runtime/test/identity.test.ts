import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defineExecutor, type ResourceSnapshot } from '@jetcel/core';
import { signIdentityToken } from '@jetcel/identity';
import { authorizeExecutor, identifyCaller, requireActorOrAdmin } from '../src/identity.ts';

const secret = 'a-test-secret-of-at-least-32-characters';
const deny = { secret, anonymous: 'deny' as const };
const allow = { secret, anonymous: 'allow' as const };
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
const code = (name: string) => (error: unknown) => (error as { code?: string }).code === name;

test('a valid token is the caller, verified, with its roles; header names are case-insensitive', () => {
  const token = signIdentityToken({ actor: 'alice', roles: ['admin'] }, secret);
  assert.deepEqual(identifyCaller({ authorization: `Bearer ${token}` }, deny), {
    actor: 'alice',
    roles: ['admin'],
    verified: true,
  });
  // An Actor header naming the token's subject is accepted; any other is refused.
  assert.equal(identifyCaller({ ...bearer(token), Actor: 'alice' }, deny).actor, 'alice');
  assert.throws(() => identifyCaller({ ...bearer(token), Actor: 'mallory' }, allow), code('UNAUTHENTICATED'));
});

test('forged, expired, alg:none, malformed and unverifiable tokens are UNAUTHENTICATED under either policy', () => {
  const forged = signIdentityToken({ actor: 'alice', roles: ['admin'] }, 'another-secret-of-at-least-32-characters');
  const expired = signIdentityToken({ actor: 'alice', roles: [] }, secret, {
    ttlSeconds: 60,
    now: new Date(Date.now() - 3_600_000),
  });
  const [, claims] = signIdentityToken({ actor: 'alice', roles: ['admin'] }, secret).split('.');
  const none = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${claims}.`;
  for (const policy of [deny, allow]) {
    for (const token of [forged, expired, none, 'not-a-jwt'])
      assert.throws(() => identifyCaller(bearer(token), policy), code('UNAUTHENTICATED'), token);
    assert.throws(() => identifyCaller({ Authorization: 'Basic abc' }, policy), code('UNAUTHENTICATED'));
  }
  const valid = signIdentityToken({ actor: 'alice', roles: [] }, secret);
  assert.throws(
    () => identifyCaller(bearer(valid), { secret: null, anonymous: 'allow' }),
    (error: Error) => code('UNAUTHENTICATED')(error) && /JETCEL_AUTH_SECRET/.test(error.message),
  );
});

test('without a token: deny refuses, allow lets in the unverified Actor header or "anonymous"', () => {
  assert.throws(() => identifyCaller({}, deny), code('UNAUTHENTICATED'));
  assert.throws(() => identifyCaller({ Actor: 'alice' }, deny), code('UNAUTHENTICATED'));
  assert.deepEqual(identifyCaller({ Actor: 'alice' }, allow), { actor: 'alice', roles: [], verified: false });
  assert.deepEqual(identifyCaller({}, allow), { actor: 'anonymous', roles: [], verified: false });
});

const resource = { type: 'thing', id: 't1', fields: { owner: 'alice' } } as unknown as ResourceSnapshot;
const executor = defineExecutor({
  name: 'thing.delete',
  kind: 'delete',
  resourceType: 'thing',
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
