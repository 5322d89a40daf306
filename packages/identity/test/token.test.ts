import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { JetcelError } from '@jetcel/core';
import { bearerToken, readAuthConfig, signIdentityToken, verifyIdentityToken } from '../src/index.ts';

const SECRET = 'a-test-secret-that-is-long-enough-0123456789';
const alice = { actor: 'alice', roles: ['admin'] };

function unauthenticated(run: () => unknown, message: RegExp): void {
  assert.throws(
    run,
    (error: unknown) => error instanceof JetcelError && error.code === 'UNAUTHENTICATED' && message.test(error.message),
  );
}

test('a signed token verifies to its actor and roles', () => {
  const token = signIdentityToken(alice, SECRET);
  assert.deepEqual(verifyIdentityToken(token, SECRET), { actor: 'alice', roles: ['admin'] });
});

test('a token signed with another secret is refused', () => {
  const token = signIdentityToken(alice, `${SECRET}-other`);
  unauthenticated(() => verifyIdentityToken(token, SECRET), /signature/);
});

test('a token whose claims were edited is refused', () => {
  const [header, , sig] = signIdentityToken({ actor: 'bob', roles: [] }, SECRET).split('.');
  const forged = Buffer.from(JSON.stringify({ iss: 'jetcel', sub: 'bob', roles: ['admin'], exp: 9e9 })).toString(
    'base64url',
  );
  unauthenticated(() => verifyIdentityToken(`${header}.${forged}.${sig}`, SECRET), /signature/);
});

test('an expired token is refused, within the clock skew it is not', () => {
  const issued = new Date('2026-01-01T00:00:00Z');
  const token = signIdentityToken(alice, SECRET, { ttlSeconds: 60, now: issued });
  assert.equal(verifyIdentityToken(token, SECRET, { now: new Date('2026-01-01T00:01:20Z') }).actor, 'alice');
  unauthenticated(() => verifyIdentityToken(token, SECRET, { now: new Date('2026-01-01T00:02:00Z') }), /expired/);
});

test('alg none and malformed tokens are refused', () => {
  const none = Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url');
  const claims = Buffer.from(JSON.stringify({ iss: 'jetcel', sub: 'x', exp: 9e9 })).toString('base64url');
  unauthenticated(() => verifyIdentityToken(`${none}.${claims}.`, SECRET), /algorithm/);
  unauthenticated(() => verifyIdentityToken('not-a-token', SECRET), /Malformed/);
  unauthenticated(() => verifyIdentityToken('a.b.c', SECRET), /Malformed/);
  unauthenticated(() => verifyIdentityToken('x'.repeat(5000), SECRET), /too long/);
});

test('a correctly signed token from another issuer is refused', () => {
  const header = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
  const claims = Buffer.from(JSON.stringify({ iss: 'elsewhere', sub: 'x', exp: 9e9 })).toString('base64url');
  const sig = createHmac('sha256', SECRET).update(`${header}.${claims}`).digest('base64url');
  unauthenticated(() => verifyIdentityToken(`${header}.${claims}.${sig}`, SECRET), /issuer/);
});

test('bearer headers are parsed strictly', () => {
  assert.equal(bearerToken(undefined), null);
  assert.equal(bearerToken('Bearer abc.def.ghi'), 'abc.def.ghi');
  unauthenticated(() => bearerToken('Basic abc'), /Bearer/);
});

test('auth config refuses short secrets and unknown policies', () => {
  assert.deepEqual(readAuthConfig({}), { secret: null, anonymous: 'deny' });
  assert.throws(() => readAuthConfig({ JETCEL_AUTH_SECRET: 'short' }), /32 characters/);
  assert.throws(() => readAuthConfig({ JETCEL_AUTH_ANONYMOUS: 'maybe' }), /allow/);
  assert.deepEqual(readAuthConfig({ JETCEL_AUTH_SECRET: SECRET, JETCEL_AUTH_ANONYMOUS: 'deny' }), {
    secret: SECRET,
    anonymous: 'deny',
  });
});
