import { test } from 'node:test';
import assert from 'node:assert/strict';
import { executorLogins, NatsLoginConfigError } from '../src/service/logins.ts';
import { serviceConfigFromEnv } from '../src/service/config.ts';

const logins = (env: Record<string, string>) => executorLogins(serviceConfigFromEnv(env));

test('a server without users: one connection serves and relays', () => {
  assert.deepEqual(logins({}), { serving: { user: undefined, pass: undefined }, relay: null });
});

test('compose: the executor serves as NATS_USER and relays as NATS_RELAY_USER', () => {
  assert.deepEqual(
    logins({ NATS_USER: 'executor', NATS_PASS: 'a', NATS_RELAY_USER: 'executor-relay', NATS_RELAY_PASS: 'b' }),
    { serving: { user: 'executor', pass: 'a' }, relay: { user: 'executor-relay', pass: 'b' } },
  );
});

test('fails closed: one user without the other, or the same user twice, is refused', () => {
  const halves: Array<Record<string, string>> = [
    { NATS_USER: 'executor', NATS_PASS: 'a' },
    { NATS_RELAY_USER: 'executor-relay', NATS_RELAY_PASS: 'b' },
    { NATS_RELAY_PASS: 'b' },
    { NATS_USER: 'executor', NATS_RELAY_USER: 'executor' },
  ];
  for (const env of halves) {
    assert.throws(
      () => logins(env),
      (error: unknown) => error instanceof NatsLoginConfigError && error.code === 'NATS_LOGIN_CONFIG',
      JSON.stringify(env),
    );
  }
  assert.throws(() => logins({ NATS_USER: 'executor', NATS_PASS: 'a' }), /NATS_RELAY_USER is not set/);
});

test('JETCEL_REPLY_PREFIXES: inbox prefixes only', () => {
  assert.deepEqual(serviceConfigFromEnv({}).replyPrefixes, ['_INBOX.']);
  assert.deepEqual(serviceConfigFromEnv({ JETCEL_REPLY_PREFIXES: '_INBOX.client, _INBOX.app-billing' }).replyPrefixes, [
    '_INBOX.client.',
    '_INBOX.app-billing.',
  ]);
  assert.throws(
    () => serviceConfigFromEnv({ JETCEL_REPLY_PREFIXES: '_INBOX.client,tasks' }),
    /Invalid reply prefix "tasks"/,
  );
});
