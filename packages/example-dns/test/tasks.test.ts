import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fakeResource, fakeTaskContext } from '@jetcel/testing-kit';
import { createZoneTask, FakeDnsProvider, pollZoneTask, pullZoneTask, ZONE_TYPE } from '@jetcel/example-dns';

// Unit tests of single tasks: a fake task context, the fake provider, no servers.

const zoneFields = { name: 'example.org', account: 'default', owner: 'alice' };

test('the create call carries the step idempotency key and the lease fencing: a repeat creates nothing twice', async () => {
  const dns = new FakeDnsProvider();
  const ctx = fakeTaskContext({
    services: { dns },
    resource: fakeResource(ZONE_TYPE, zoneFields, { state: 'CREATING' }),
    fencingToken: '7',
    fencingSlot: 'dns_zone_create:default:0',
  });
  const first = await createZoneTask.run(ctx, undefined);
  const again = await createZoneTask.run(ctx, undefined);
  assert.deepEqual(first, again);
  assert.equal(dns.zones().length, 1);
  // A holder with an older token for the same slot is refused.
  const stale = fakeTaskContext({ ...ctx, stepId: null, idempotencyKey: 'other', fencingToken: '6' });
  await assert.rejects(createZoneTask.run(stale, undefined), /stale fencing token 6/);
});

test('the poll waits while the zone is PENDING and ends once it is ACTIVE', async () => {
  const dns = new FakeDnsProvider({ activateAfterMs: 60_000 });
  const remote = await dns.createZone('example.org');
  const ctx = fakeTaskContext({
    services: { dns },
    resource: fakeResource(ZONE_TYPE, zoneFields, { state: 'CREATING', backendId: remote.id }),
  });
  assert.deepEqual(await pollZoneTask.run(ctx, undefined), {
    kind: 'poll',
    afterMs: undefined,
    patch: { runtimeState: 'PENDING' },
  });
  dns.knobs.activateAfterMs = 0;
  assert.deepEqual(await pollZoneTask.run(ctx, undefined), {
    kind: 'done',
    patch: { runtimeState: 'ACTIVE' },
    result: undefined,
  });
});

test('a pull marks a zone in ERROR at the provider ERRED with the provider message', async () => {
  const dns = new FakeDnsProvider({ activateAfterMs: 0 });
  const remote = await dns.createZone('example.org');
  dns.breakZone(remote.id, 'delegation lost');
  const zone = fakeResource(ZONE_TYPE, zoneFields, { backendId: remote.id, runtimeState: 'ACTIVE' });
  const outcome = await pullZoneTask.run(fakeTaskContext({ services: { dns }, resource: zone }), undefined);
  assert.equal(outcome?.kind, 'done');
  assert.equal(outcome.patch?.transition, 'set_erred');
  assert.equal(outcome.patch.errorMessage, 'delegation lost');
});
