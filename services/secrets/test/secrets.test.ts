import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseUsers, verifyPassword } from '@jetcel/dashboard-service';
import { NATS_USERS, ensureSecrets } from '../src/index.ts';

const databaseUrl = 'postgres://postgres@postgres:5432/jetcel';
const read = (dir: string, name: string) => readFileSync(join(dir, name), 'utf8').trim();

test('the first run generates every secret; later runs reuse them and regenerate only what is missing', async () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'jetcel-secrets-')), 'secrets');
  const first = await ensureSecrets(dir, { databaseUrl });
  assert.ok(first.adminPassword, 'the first run returns the admin password, to print once');
  assert.equal(first.created.length, 2 + NATS_USERS.length + 2);
  const natsEnv = read(dir, 'nats.env').split('\n');
  assert.equal(natsEnv.length, NATS_USERS.length);
  assert.ok(natsEnv.includes(`JETCEL_PASS_EXECUTOR_RELAY=${read(dir, 'nats-pass-executor-relay')}`));
  const passwords = NATS_USERS.map((user) => read(dir, `nats-pass-${user}`));
  assert.equal(new Set(passwords).size, passwords.length, 'one password per user');
  // nats-server's variable alphabet: letters, digits, - and _, starting with a letter.
  for (const password of passwords) assert.match(password, /^[A-Za-z][A-Za-z0-9_-]{31}$/);
  assert.ok(read(dir, 'auth-secret').length >= 32);
  assert.equal(new URL(read(dir, 'database-url')).password, read(dir, 'postgres-password'));
  assert.equal(statSync(join(dir, 'auth-secret')).mode & 0o077, 0, 'readable by its owner only');
  const admin = parseUsers(read(dir, 'dashboard-users')).get('admin');
  assert.ok(admin && (await verifyPassword(first.adminPassword, admin.passwordHash)));

  const before = read(dir, 'nats.env');
  const second = await ensureSecrets(dir, { databaseUrl });
  assert.deepEqual(second, { created: [] }, 'nothing new, no password printed again');
  assert.equal(read(dir, 'nats.env'), before);

  rmSync(join(dir, 'nats-pass-beat'));
  const third = await ensureSecrets(dir, { databaseUrl });
  assert.deepEqual(third.created, ['nats-pass-beat']);
  assert.equal(read(dir, 'nats-pass-executor'), passwords[1]);
});

test('two installs share no secret', async () => {
  const [a, b] = [mkdtempSync(join(tmpdir(), 'jetcel-a-')), mkdtempSync(join(tmpdir(), 'jetcel-b-'))];
  await Promise.all([ensureSecrets(a, { databaseUrl }), ensureSecrets(b, { databaseUrl })]);
  for (const name of ['auth-secret', 'nats-pass-operator', 'postgres-password', 'dashboard-users'])
    assert.notEqual(read(a, name), read(b, name), name);
});
