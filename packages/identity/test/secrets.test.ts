import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  assertNoDevOnlySecrets,
  readAuthConfig,
  resolveSecretFiles,
  secretEnv,
  SecretConfigError,
} from '../src/index.ts';

const refused = (env: NodeJS.ProcessEnv, names: RegExp) =>
  assert.throws(
    () => assertNoDevOnlySecrets(env),
    (err: unknown) => err instanceof SecretConfigError && err.code === 'DEV_ONLY_SECRET' && names.test(err.message),
  );

test('a dev-only- secret, password or URL password is refused unless JETCEL_DEV=1', () => {
  refused({ JETCEL_AUTH_SECRET: 'dev-only-identity-secret-do-not-deploy' }, /^JETCEL_AUTH_SECRET is a publicly known/);
  refused({ NATS_PASS: 'dev-only-executor', NATS_RELAY_PASS: 'dev-only-relay' }, /^NATS_PASS, NATS_RELAY_PASS are/);
  refused({ JETCEL_PASS_CLIENT: 'dev-only-client' }, /JETCEL_PASS_CLIENT/);
  refused({ DATABASE_URL: 'postgres://postgres:dev-only-pg@db:5432/jetcel' }, /DATABASE_URL/);
  refused({ NATS_PASS: 'dev-only-x', JETCEL_DEV: '0' }, /JETCEL_DEV=1/);
  // a key list: any listed secret counts, not only a value that starts with the prefix
  refused(
    { JETCEL_AUTH_SECRETS: 'next:a-real-secret-of-at-least-32-characters,old:dev-only-identity-secret-do-not-deploy' },
    /^JETCEL_AUTH_SECRETS is a publicly known/,
  );
  assertNoDevOnlySecrets({ NATS_PASS: 'dev-only-executor', JETCEL_DEV: '1' });
  assertNoDevOnlySecrets({
    NATS_PASS: 'Kx9-secret',
    DATABASE_URL: 'postgres://postgres@db/jetcel',
    NATS_USER: 'dev-only-x',
  });
});

test('NAME_FILE reads a secret from a file; NAME and NAME_FILE together, or a missing file, are errors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'jetcel-secrets-'));
  writeFileSync(join(dir, 'pass'), 'Kx9-generated\n');
  writeFileSync(join(dir, 'dev'), 'dev-only-executor\n');
  const env = resolveSecretFiles({ NATS_PASS_FILE: join(dir, 'pass'), OTHER_FILE: '/nope' });
  assert.equal(env.NATS_PASS, 'Kx9-generated');
  assert.equal(env.OTHER, undefined, 'only secret variables are read from files');
  const code = (fn: () => unknown, expected: string) =>
    assert.throws(fn, (err: unknown) => err instanceof SecretConfigError && err.code === expected);
  code(() => resolveSecretFiles({ NATS_PASS: 'a', NATS_PASS_FILE: join(dir, 'pass') }), 'SECRET_FILE');
  code(() => resolveSecretFiles({ JETCEL_AUTH_SECRET_FILE: join(dir, 'missing') }), 'SECRET_FILE');
  code(() => secretEnv({ NATS_PASS_FILE: join(dir, 'dev') }), 'DEV_ONLY_SECRET');
});

test('JETCEL_AUTH_ANONYMOUS defaults to deny (empty counts as unset)', () => {
  assert.equal(readAuthConfig({}).anonymous, 'deny');
  assert.equal(readAuthConfig({ JETCEL_AUTH_ANONYMOUS: '' }).anonymous, 'deny');
  assert.equal(readAuthConfig({ JETCEL_AUTH_ANONYMOUS: 'allow' }).anonymous, 'allow');
});
