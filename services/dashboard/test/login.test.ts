import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, scryptSync } from 'node:crypto';
import type { Logger } from '@jetcel/core';
import { startNats, type NatsServerHandle } from '@jetcel/testing';
import {
  BusJetcelApi,
  LoginLimiter,
  hashPassword,
  readDashboardConfig,
  startDashboard,
  verifyPassword,
  type DashboardConfig,
  type RunningDashboard,
} from '../src/index.ts';

// Login limits (429 + Retry-After), the Secure cookie rule and re-hashing of older password hashes.
const SECRET = 'a-dashboard-test-secret-0123456789-abcdef';

/** A hash as the dashboard made them before N = 2^17 (and as compose.yaml's default was). */
function oldHash(password: string): string {
  const salt = randomBytes(16);
  const key = scryptSync(password, salt, 32, { N: 16384, r: 8, p: 1 });
  return `scrypt.16384.8.1.${salt.toString('base64url')}.${key.toString('base64url')}`;
}

const warnings: Array<{ msg: string; fields: Record<string, unknown> }> = [];
const recorder: Logger = {
  debug() {},
  info() {},
  warn: (msg, fields = {}) => warnings.push({ msg, fields }),
  error() {},
  child: () => recorder,
};

let nats: NatsServerHandle;
let api: BusJetcelApi;
const running: RunningDashboard[] = [];
let users: string;

before(async () => {
  nats = await startNats();
  api = await BusJetcelApi.connect({ servers: [nats.url], keys: SECRET });
  users = `alice:admin:${await hashPassword('alice-pw')},bob::${await hashPassword('bob-pw')},carol::${oldHash('carol-pw')}`;
});

after(async () => {
  for (const dashboard of running) await dashboard.close();
  await api?.close();
  await nats?.[Symbol.asyncDispose]();
});

async function start(env: NodeJS.ProcessEnv = {}): Promise<{ dashboard: RunningDashboard; config: DashboardConfig }> {
  const config = readDashboardConfig({
    JETCEL_DASHBOARD_USERS: users,
    JETCEL_AUTH_SECRET: SECRET,
    NATS_URL: nats.url,
    ...env,
  });
  const dashboard = await startDashboard({ config: { ...config, port: 0 }, api, logger: recorder });
  running.push(dashboard);
  return { dashboard, config };
}

function login(base: string, username: string, password: string): Promise<Response> {
  return fetch(`${base}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username, password }).toString(),
  });
}

test('failed logins lock the user name, then the client address: 429 with Retry-After, even for the right password', async () => {
  const { dashboard } = await start({
    JETCEL_DASHBOARD_LOGIN_USER_FAILURES: '3',
    JETCEL_DASHBOARD_LOGIN_IP_FAILURES: '8',
    JETCEL_DASHBOARD_LOGIN_WINDOW_MS: '60000',
  });
  const base = dashboard.url;
  for (let i = 0; i < 3; i++) assert.equal((await login(base, 'alice', 'wrong')).status, 401);
  const locked = await login(base, 'alice', 'alice-pw');
  assert.equal(locked.status, 429, 'the right password does not unlock early');
  const retryAfter = Number(locked.headers.get('retry-after'));
  assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After: ${retryAfter}`);
  // An unknown name is locked the same way: a lock says nothing about who exists.
  for (let i = 0; i < 3; i++) assert.equal((await login(base, 'nobody', 'x')).status, 401);
  assert.equal((await login(base, 'nobody', 'x')).status, 429);
  // bob is not locked, and his success is not counted against the address (6 failures so far).
  assert.equal((await login(base, 'bob', 'bob-pw')).status, 303);
  for (let i = 0; i < 2; i++) assert.equal((await login(base, 'eve', 'x')).status, 401);
  const byAddress = await login(base, 'bob', 'bob-pw');
  assert.equal(byAddress.status, 429, 'the address is locked for every name');
  assert.ok(Number(byAddress.headers.get('retry-after')) >= 1);
  assert.ok(warnings.some((entry) => entry.msg === 'login refused: too many failures'));
});

test('LoginLimiter: failures leave the window one by one; a success clears its user name only', () => {
  let now = 0;
  const limiter = new LoginLimiter({ userFailures: 2, ipFailures: 10, windowMs: 10_000 }, () => now);
  assert.equal(limiter.begin('alice', 'ip'), 0);
  now = 4_000;
  assert.equal(limiter.begin('alice', 'ip'), 0);
  now = 5_000;
  assert.equal(limiter.begin('alice', 'ip'), 5, 'until the first failure is 10 s old');
  now = 10_001;
  assert.equal(limiter.begin('alice', 'ip'), 0, 'one failure left the window');
  limiter.succeeded('alice', 'ip');
  assert.equal(limiter.begin('alice', 'ip'), 0);
  assert.equal(limiter.begin('alice', 'ip'), 0);
  assert.ok(limiter.begin('alice', 'ip') > 0);
});

test('the session cookie is Secure unless the dashboard is served on localhost', async () => {
  const secure = (env: NodeJS.ProcessEnv) =>
    readDashboardConfig({ JETCEL_DASHBOARD_USERS: users, JETCEL_AUTH_SECRET: SECRET, ...env }).secureCookie;
  assert.equal(secure({}), false, 'default listen address 127.0.0.1');
  assert.equal(secure({ JETCEL_DASHBOARD_HOST: 'localhost' }), false);
  assert.equal(secure({ JETCEL_DASHBOARD_HOST: '::1' }), false);
  assert.equal(secure({ JETCEL_DASHBOARD_HOST: '0.0.0.0' }), true);
  assert.equal(secure({ JETCEL_DASHBOARD_HOST: '10.1.2.3' }), true);
  assert.equal(
    secure({ JETCEL_DASHBOARD_HOST: '0.0.0.0', JETCEL_DASHBOARD_PUBLIC_URL: 'http://localhost:8080' }),
    false,
  );
  assert.equal(secure({ JETCEL_DASHBOARD_PUBLIC_URL: 'http://127.0.0.1:8080/' }), false);
  assert.equal(secure({ JETCEL_DASHBOARD_PUBLIC_URL: 'https://jetcel.example.com' }), true);
  assert.equal(secure({ JETCEL_DASHBOARD_PUBLIC_URL: 'https://localhost:8443' }), true);
  assert.throws(() => secure({ JETCEL_DASHBOARD_PUBLIC_URL: 'http://jetcel.example.com' }), /over HTTPS/);
  assert.throws(() => secure({ JETCEL_DASHBOARD_PUBLIC_URL: 'http://localhost.example.com' }), /over HTTPS/);
  assert.throws(() => secure({ JETCEL_DASHBOARD_PUBLIC_URL: 'not a url' }), /not a URL/);
  assert.throws(() => secure({ JETCEL_DASHBOARD_SECURE_COOKIE: 'false' }), /no longer read/);

  const cookieOf = async (dashboard: RunningDashboard) =>
    (await login(`http://127.0.0.1:${dashboard.port}`, 'alice', 'alice-pw')).headers.get('set-cookie') ?? '';
  const local = await start();
  assert.doesNotMatch(await cookieOf(local.dashboard), /Secure/);
  const exposed = await start({ JETCEL_DASHBOARD_HOST: '0.0.0.0' });
  assert.match(await cookieOf(exposed.dashboard), /; Secure/);
});

test('an older hash (N = 16384) still verifies and is re-hashed at N = 2^17 at login, with a warning', async () => {
  const { dashboard } = await start();
  const before = dashboard.users.get('carol')?.passwordHash ?? '';
  assert.match(before, /^scrypt\.16384\./);
  assert.equal((await login(dashboard.url, 'carol', 'carol-pw')).status, 303);
  const after = dashboard.users.get('carol')?.passwordHash ?? '';
  assert.match(after, /^scrypt\.131072\.8\.1\./);
  assert.equal(await verifyPassword('carol-pw', after), true);
  const warning = warnings.find((entry) => entry.msg.startsWith('outdated password hash'));
  assert.equal(warning?.fields.user, 'carol');
  assert.equal(JSON.stringify(warning).includes(after), false, 'the new hash is not logged');
  // The next login verifies against the new hash.
  assert.equal((await login(dashboard.url, 'carol', 'carol-pw')).status, 303);
  assert.equal(dashboard.users.get('carol')?.passwordHash, after);
  // An up-to-date hash is left alone.
  const alice = dashboard.users.get('alice')?.passwordHash;
  assert.equal((await login(dashboard.url, 'alice', 'alice-pw')).status, 303);
  assert.equal(dashboard.users.get('alice')?.passwordHash, alice);
});

test('hashes are made at N = 2^17; absurd costs are refused rather than computed', async () => {
  const hash = await hashPassword('pw');
  assert.match(hash, /^scrypt\.131072\.8\.1\./);
  assert.equal(await verifyPassword('pw', hash), true);
  assert.equal(await verifyPassword('pw', hash.replace('scrypt.131072.', 'scrypt.2097152.')), false);
  assert.equal(await verifyPassword('pw', hash.replace('scrypt.131072.', 'scrypt.100000.')), false);
});
