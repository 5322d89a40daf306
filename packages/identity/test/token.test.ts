import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { JetcelError } from '@jetcel/core';
import { bearerToken, keyRing, readAuthConfig, signIdentityToken, verifyIdentityToken } from '../src/index.ts';

const SECRET = 'a-test-secret-that-is-long-enough-0123456789';
const alice = { actor: 'alice', roles: ['admin'] };
const segment = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

async function unauthenticated(run: () => unknown, message: RegExp): Promise<void> {
  await assert.rejects(
    async () => run(),
    (error: unknown) => error instanceof JetcelError && error.code === 'UNAUTHENTICATED' && message.test(error.message),
  );
}

/** A token signed by hand (any header and claims), as an attacker or a foreign signer would. */
function handSigned(header: unknown, claims: unknown, secret = SECRET): string {
  const body = `${segment(header)}.${segment(claims)}`;
  return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
}

test('a signed token verifies to its actor and roles', async () => {
  const token = await signIdentityToken(alice, SECRET);
  assert.deepEqual(await verifyIdentityToken(token, SECRET), { actor: 'alice', roles: ['admin'] });
});

test('a token signed with another secret is refused', async () => {
  const token = await signIdentityToken(alice, `${SECRET}-other`);
  await unauthenticated(() => verifyIdentityToken(token, SECRET), /signature/);
});

test('a token whose claims were edited is refused', async () => {
  const [header, , sig] = (await signIdentityToken({ actor: 'bob', roles: [] }, SECRET)).split('.');
  const now = Math.floor(Date.now() / 1000);
  const forged = segment({ iss: 'jetcel', sub: 'bob', roles: ['admin'], iat: now, exp: now + 60 });
  await unauthenticated(() => verifyIdentityToken(`${header}.${forged}.${sig}`, SECRET), /signature/);
});

test('an expired token is refused, within the clock skew it is not', async () => {
  const issued = new Date('2026-01-01T00:00:00Z');
  const token = await signIdentityToken(alice, SECRET, { ttlSeconds: 60, now: issued });
  const at = (iso: string) => ({ now: new Date(iso) });
  assert.equal((await verifyIdentityToken(token, SECRET, at('2026-01-01T00:01:20Z'))).actor, 'alice');
  await unauthenticated(() => verifyIdentityToken(token, SECRET, at('2026-01-01T00:02:00Z')), /expired/);
});

test('alg none, other algorithms and malformed tokens are refused', async () => {
  const now = Math.floor(Date.now() / 1000);
  const claims = segment({ iss: 'jetcel', sub: 'x', iat: now, exp: now + 60 });
  await unauthenticated(() => verifyIdentityToken(`${segment({ alg: 'none' })}.${claims}.`, SECRET), /algorithm/);
  const hs512 = { alg: 'HS512', typ: 'JWT', kid: 'default' };
  const body = `${segment(hs512)}.${claims}`;
  const sig512 = createHmac('sha512', SECRET).update(body).digest('base64url');
  await unauthenticated(() => verifyIdentityToken(`${body}.${sig512}`, SECRET), /algorithm/);
  await unauthenticated(() => verifyIdentityToken('not-a-token', SECRET), /Malformed/);
  await unauthenticated(() => verifyIdentityToken('a.b.c', SECRET), /Malformed/);
  await unauthenticated(() => verifyIdentityToken('x'.repeat(5000), SECRET), /too long/);
});

test('a correctly signed token from another issuer is refused', async () => {
  const now = Math.floor(Date.now() / 1000);
  const token = handSigned(
    { alg: 'HS256', typ: 'JWT', kid: 'default' },
    { iss: 'else', sub: 'x', iat: now, exp: now + 60 },
  );
  await unauthenticated(() => verifyIdentityToken(token, SECRET), /issuer/);
});

test('a signature spelled non-canonically (same bytes, other trailing bits) is refused', async () => {
  const token = await signIdentityToken(alice, SECRET);
  const [header = '', claims = '', sig = ''] = token.split('.');
  // 32 bytes are 43 characters: the last one carries 2 unused bits. Flip them: same bytes, other text.
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const last = alphabet.indexOf(sig.at(-1) ?? '');
  const twin = `${sig.slice(0, -1)}${alphabet[last ^ 1]}`;
  assert.deepEqual(Buffer.from(twin, 'base64url'), Buffer.from(sig, 'base64url'));
  await unauthenticated(() => verifyIdentityToken(`${header}.${claims}.${twin}`, SECRET), /Malformed/);
  await unauthenticated(() => verifyIdentityToken(`${header}.${claims}.${sig}=`, SECRET), /Malformed/);
  await unauthenticated(() => verifyIdentityToken(`${header}=.${claims}.${sig}`, SECRET), /Malformed/);
});

test('lifetime: exp and iat are required, exp - iat may not exceed the maximum, iat and nbf not in the future', async () => {
  const now = Math.floor(Date.now() / 1000);
  const header = { alg: 'HS256', typ: 'JWT', kid: 'default' };
  const base = { iss: 'jetcel', sub: 'x' };
  await unauthenticated(() => verifyIdentityToken(handSigned(header, { ...base, iat: now }), SECRET), /exp/);
  await unauthenticated(() => verifyIdentityToken(handSigned(header, { ...base, exp: now + 60 }), SECRET), /iat/);
  const long = handSigned(header, { ...base, iat: now, exp: now + 24 * 3600 + 1 });
  await unauthenticated(() => verifyIdentityToken(long, SECRET), /longer than 86400/);
  assert.equal((await verifyIdentityToken(long, SECRET, { maxTtlSeconds: 48 * 3600 })).actor, 'x');
  const day = handSigned(header, { ...base, iat: now, exp: now + 24 * 3600 });
  assert.equal((await verifyIdentityToken(day, SECRET)).actor, 'x');
  await unauthenticated(() => verifyIdentityToken(day, SECRET, { maxTtlSeconds: 3600 }), /longer than 3600/);
  const future = handSigned(header, { ...base, iat: now + 120, exp: now + 180 });
  await unauthenticated(() => verifyIdentityToken(future, SECRET), /iat/);
  const skewed = handSigned(header, { ...base, iat: now + 20, exp: now + 80 });
  assert.equal((await verifyIdentityToken(skewed, SECRET)).actor, 'x');
  const notYet = handSigned(header, { ...base, iat: now, nbf: now + 120, exp: now + 180 });
  await unauthenticated(() => verifyIdentityToken(notYet, SECRET), /nbf/);
  await assert.rejects(signIdentityToken(alice, SECRET, { ttlSeconds: 24 * 3600 + 1 }), /between 1 and 86400/);
});

test('key rotation: the newest key signs with its kid, every listed key verifies, an unknown or missing kid is refused', async () => {
  const old = { kid: 'k1', secret: `${SECRET}-old` };
  const fresh = { kid: 'k2', secret: `${SECRET}-new` };
  const before = keyRing([old]);
  const during = keyRing([fresh, old]);
  const after = keyRing([fresh]);
  const oldToken = await signIdentityToken(alice, before);
  const newToken = await signIdentityToken(alice, during);
  const kidOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString()).kid;
  assert.equal(kidOf(oldToken), 'k1');
  assert.equal(kidOf(newToken), 'k2');
  assert.equal((await verifyIdentityToken(oldToken, during)).actor, 'alice');
  assert.equal((await verifyIdentityToken(newToken, during)).actor, 'alice');
  await unauthenticated(() => verifyIdentityToken(oldToken, after), /kid/);
  // The right secret under another kid is still an unknown key.
  const renamed = keyRing([{ kid: 'k3', secret: old.secret }]);
  await unauthenticated(() => verifyIdentityToken(oldToken, renamed), /kid/);
  const now = Math.floor(Date.now() / 1000);
  const noKid = handSigned({ alg: 'HS256', typ: 'JWT' }, { iss: 'jetcel', sub: 'x', iat: now, exp: now + 60 });
  await unauthenticated(() => verifyIdentityToken(noKid, SECRET), /kid/);
});

test('bearer headers are parsed strictly', () => {
  assert.equal(bearerToken(undefined), null);
  assert.equal(bearerToken('Bearer abc.def.ghi'), 'abc.def.ghi');
  assert.throws(() => bearerToken('Basic abc'), /Bearer/);
});

test('auth config: one secret or a key list, never both; malformed lists, short secrets, bad limits and policies fail', () => {
  assert.deepEqual(readAuthConfig({}), { keys: null, anonymous: 'deny', maxTtlSeconds: 86400 });
  assert.throws(() => readAuthConfig({ JETCEL_AUTH_SECRET: 'short' }), /32 characters/);
  assert.throws(() => readAuthConfig({ JETCEL_AUTH_ANONYMOUS: 'maybe' }), /allow/);
  const single = readAuthConfig({ JETCEL_AUTH_SECRET: SECRET, JETCEL_AUTH_ANONYMOUS: 'deny' });
  assert.equal(single.anonymous, 'deny');
  assert.deepEqual(single.keys?.signing, { kid: 'default', secret: SECRET });
  const list = readAuthConfig({
    JETCEL_AUTH_SECRETS: ` k2:${SECRET}-new , k1:${SECRET}:with-colon`,
    JETCEL_AUTH_MAX_TTL: '3600',
  });
  assert.deepEqual(list.keys?.signing, { kid: 'k2', secret: `${SECRET}-new` });
  assert.deepEqual([...(list.keys?.byKid.keys() ?? [])], ['k2', 'k1']);
  assert.equal(list.keys?.byKid.get('k1')?.secret, `${SECRET}:with-colon`);
  assert.equal(list.maxTtlSeconds, 3600);
  const fails = (env: NodeJS.ProcessEnv, message: RegExp) =>
    assert.throws(
      () => readAuthConfig(env),
      (error: Error & { code?: string }) => error.code === 'AUTH_CONFIG' && message.test(error.message),
    );
  fails({ JETCEL_AUTH_SECRET: SECRET, JETCEL_AUTH_SECRETS: `k1:${SECRET}` }, /not both/);
  fails({ JETCEL_AUTH_SECRETS: SECRET }, /entry 1 must be "<kid>:<secret>"/);
  fails({ JETCEL_AUTH_SECRETS: `k1:${SECRET},` }, /entry 2/);
  fails({ JETCEL_AUTH_SECRETS: `k1:${SECRET},k2:short` }, /"k2" must be at least 32/);
  fails({ JETCEL_AUTH_SECRETS: `k1:${SECRET},k1:${SECRET}-2` }, /"k1" is listed twice/);
  fails({ JETCEL_AUTH_SECRETS: `k 1:${SECRET}` }, /key id "k 1"/);
  for (const ttl of ['0', '-5', '1.5', 'day', '1e3']) fails({ JETCEL_AUTH_MAX_TTL: ttl }, /JETCEL_AUTH_MAX_TTL/);
});
