import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DashboardConfigError,
  SessionStore,
  authenticate,
  hashPassword,
  parseUsers,
  readDashboardConfig,
  verifyPassword,
} from '../src/index.ts';

const SECRET = 'a-dashboard-test-secret-0123456789-abcdef';

test('a password hash verifies its password only, and carries no ":", "," or "$"', async () => {
  const hash = await hashPassword('correct horse');
  assert.match(hash, /^scrypt\.131072\.8\.1\.[\w-]+\.[\w-]+$/);
  assert.equal(await verifyPassword('correct horse', hash), true);
  assert.equal(await verifyPassword('correct horse ', hash), false);
  assert.equal(await verifyPassword('correct horse', 'scrypt.1.1.1.bad'), false);
  assert.notEqual(await hashPassword('correct horse'), hash, 'salted');
});

test('users: name, "+"-separated roles and a hash; a plain password or a duplicate is refused', async () => {
  const hash = await hashPassword('pw');
  const users = parseUsers(`alice:admin+ops:${hash}, bob::${hash}`);
  assert.deepEqual(users.get('alice')?.roles, ['admin', 'ops']);
  assert.deepEqual(users.get('bob')?.roles, []);
  assert.throws(() => parseUsers('alice:admin:hunter2'), /needs a password hash/);
  assert.throws(() => parseUsers(`alice::${hash},alice::${hash}`), /listed twice/);
  assert.throws(() => parseUsers(`al ice::${hash}`), DashboardConfigError);
  assert.equal((await authenticate(users, 'alice', 'pw'))?.username, 'alice');
  assert.equal(await authenticate(users, 'alice', 'wrong'), null);
  assert.equal(await authenticate(users, 'mallory', 'pw'), null);
});

test('the dashboard refuses to start without users or without an identity secret', async () => {
  const users = `alice:admin:${await hashPassword('pw')}`;
  assert.throws(() => readDashboardConfig({ JETCEL_AUTH_SECRET: SECRET }), /lists no user/);
  assert.throws(
    () => readDashboardConfig({ JETCEL_DASHBOARD_USERS: users }),
    /Neither JETCEL_AUTH_SECRET nor JETCEL_AUTH_SECRETS is set/,
  );
  assert.throws(
    () => readDashboardConfig({ JETCEL_DASHBOARD_USERS: users, JETCEL_AUTH_SECRET: 'short' }),
    DashboardConfigError,
  );
  const config = readDashboardConfig({
    JETCEL_DASHBOARD_USERS: users,
    JETCEL_AUTH_SECRET: SECRET,
    JETCEL_DASHBOARD_PORT: '9000',
  });
  assert.equal(config.port, 9000);
  assert.equal(config.users.get('alice')?.username, 'alice');
  const rotating = readDashboardConfig({
    JETCEL_DASHBOARD_USERS: users,
    JETCEL_AUTH_SECRETS: `k2:${SECRET}-new,k1:${SECRET}`,
  });
  assert.equal(rotating.authKeys.signing.kid, 'k2', 'the newest key signs');
  assert.throws(
    () => readDashboardConfig({ JETCEL_DASHBOARD_USERS: users, JETCEL_AUTH_SECRETS: `k2:${SECRET},k2:${SECRET}` }),
    (error: Error) => error instanceof DashboardConfigError && /listed twice/.test(error.message),
  );
});

test('sessions end after the idle time, the maximum age, or logout', async () => {
  let now = 0;
  const user = { username: 'alice', roles: [], passwordHash: await hashPassword('pw') };
  const store = new SessionStore({ idleMs: 100, maxMs: 250, now: () => now });
  const ended: string[] = [];
  store.onEnd((id) => ended.push(id));

  const idle = store.create(user);
  now = 101;
  assert.equal(store.get(idle.id), null, 'idle too long');

  const active = store.create(user); // at 101
  for (now = 180; now <= 340; now += 80) assert.ok(store.get(active.id), `active at ${now}`);
  now = 352;
  assert.equal(store.get(active.id), null, 'older than the maximum age, however active');

  const loggedOut = store.create(user);
  assert.ok(store.isLive(loggedOut));
  store.end(loggedOut.id);
  assert.equal(store.get(loggedOut.id), null);
  assert.deepEqual(ended, [idle.id, active.id, loggedOut.id]);
  assert.notEqual(idle.csrfToken, active.csrfToken);
});
