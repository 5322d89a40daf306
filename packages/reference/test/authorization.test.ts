import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ResourceSnapshot } from '@jetcel/core';
import { readAccess } from '@jetcel/runtime';
import { ownerOf, ownerOrAdmin, referenceReads } from '../src/authorization.ts';
import { createReferenceDomain } from '../src/domain.ts';

const resource = (owner: unknown): ResourceSnapshot => ({
  type: 'instance',
  id: '7f8b5a52-8a58-4a2b-9d2f-1f7cf1f0a001',
  state: 'OK',
  version: 3,
  errorMessage: '',
  errorTraceback: '',
  action: '',
  actionDetails: {},
  runtimeState: '',
  backendId: 'srv-1',
  modifiedAt: '2026-01-01T00:00:00.000Z',
  fields: { name: 'vm', cloudSettingsId: 'default', flavor: 'small', owner: owner as string | null },
});

const alice = { actor: 'alice', roles: [] };
const bob = { actor: 'bob', roles: ['viewer'] };
const root = { actor: 'root', roles: ['admin'] };

test('the owner may act on their resource, another actor may not, an admin may on anything', async () => {
  for (const action of ['instance.delete', 'instance.rename', 'instance.resize', 'instance.attach']) {
    assert.equal(await ownerOrAdmin(alice, action, resource('alice')), true, action);
    assert.equal(await ownerOrAdmin(bob, action, resource('alice')), false, action);
    assert.equal(await ownerOrAdmin(root, action, resource('alice')), true, action);
  }
});

test('a row without an owner (older than m003) is an admin’s alone; a non-string owner is no owner', async () => {
  assert.equal(await ownerOrAdmin(alice, 'instance.delete', resource(null)), false);
  assert.equal(await ownerOrAdmin(root, 'instance.delete', resource(null)), true);
  assert.equal(ownerOf(resource(42)), null);
  assert.equal(await ownerOrAdmin({ actor: '42', roles: [] }, 'instance.delete', resource(42)), false);
  // Roles are matched exactly: "Admin" or "admins" are not "admin".
  assert.equal(await ownerOrAdmin({ actor: 'eve', roles: ['Admin', 'admins'] }, 'x', resource('alice')), false);
});

test('every reference executor carries the owner-or-admin hook', () => {
  const { executors } = createReferenceDomain();
  for (const [key, executor] of Object.entries(executors)) assert.equal(executor.authorize, ownerOrAdmin, key);
});

test('reads: the same hook (action read) and a list filter that agrees with it; tracebacks for admins', async () => {
  assert.equal(createReferenceDomain().readPolicy, referenceReads);
  const erred = { ...resource('alice'), errorTraceback: 'Error: boom\n    at cloud.ts:1' };
  const verified = (identity: { actor: string; roles: string[] }) =>
    readAccess({ ...identity, verified: true }, referenceReads);
  const [asAlice, asBob, asRoot] = [verified(alice), verified(bob), verified(root)];
  assert.deepEqual(await Promise.all([asAlice, asBob, asRoot].map((access) => access.canRead(erred))), [
    true,
    false,
    true,
  ]);
  assert.equal(await asBob.canRead(resource(null)), false, 'an ownerless row is an admin’s');
  assert.deepEqual(asAlice.scope, { kind: 'owned', owned: { field: 'owner', owner: 'alice' } });
  assert.deepEqual(asRoot.scope, { kind: 'all' });
  assert.equal(asAlice.shown(erred).errorTraceback, '');
  assert.equal(asRoot.shown(erred).errorTraceback, erred.errorTraceback);
  // An anonymous caller is only let in by `allow` (development): it reads like an admin.
  const anonymous = readAccess({ actor: 'anonymous', roles: [], verified: false }, referenceReads);
  assert.equal(await anonymous.canRead(erred), true);
  assert.deepEqual(anonymous.scope, { kind: 'all' });
  assert.equal(anonymous.shown(erred).errorTraceback, erred.errorTraceback);
});
