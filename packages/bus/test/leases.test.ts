import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { randomUUID } from 'node:crypto';
import { applyTopology, defineTopology, Leases, type Bus } from '../src/index.ts';
import { startNats, type NatsServerHandle } from '@jetcel/testing';
import { openBus, sleep } from './helpers.ts';

describe('leases', () => {
  let nats: NatsServerHandle;
  let bus: Bus;
  let leases: Leases;
  const holder = () => ({ executionId: randomUUID(), token: randomUUID() });

  before(async () => {
    nats = await startNats();
    bus = await openBus(nats);
    await applyTopology(bus, defineTopology({ leaseTtlMs: 1500 }));
    leases = await Leases.open(bus);
  });
  after(async () => {
    await bus?.close();
    await nats?.[Symbol.asyncDispose]();
  });

  test('D1: ten racers for four slots: exactly four win; any scope id is a valid key', async () => {
    const scope = 'openstack.instance:42 / ünïcode';
    const results = await Promise.all(Array.from({ length: 10 }, () => leases.acquire('race', scope, 4, holder())));
    const won = results.filter((lease) => lease !== null);
    assert.equal(won.length, 4);
    assert.equal(new Set(won.map((lease) => lease?.key)).size, 4);
    assert.equal((await leases.occupancy('race', scope, 4)).length, 4);
  });

  test('newcomers to a scope with free slots start at different slots, so racers rarely contend for one key', async () => {
    const keys = new Set<string>();
    for (let round = 0; round < 20; round += 1) {
      const lease = await leases.acquire('spread', `scope-${round}`, 4, holder());
      keys.add(lease?.key.slice(lease.key.lastIndexOf('.')) ?? 'none');
    }
    assert.ok(keys.size > 1, `slots taken first: ${[...keys].join(', ')}`);
    assert.ok(!keys.has('none'));
  });

  test('renewal is a compare-and-set on the revision; the revision only grows (fencing)', async () => {
    const me = holder();
    const lease = await leases.acquire('renew', 'scope-a', 1, me);
    assert.ok(lease);
    const renewed = await leases.renew(lease, me);
    assert.ok(renewed && renewed.revision > lease.revision);
    assert.equal(await leases.renew(lease, holder()), null, 'another holder cannot renew it');
    const again = await leases.renew(lease, me);
    assert.ok(
      again && again.revision > renewed.revision,
      'a stale revision of the same holder is settled by reading the key',
    );
  });

  test('D3: a lease expires a TTL after its last renewal; the slot is free again and its new revision is higher', async () => {
    const first = holder();
    const lease = await leases.acquire('expire', 'scope-b', 1, first);
    assert.ok(lease);
    assert.equal(await leases.acquire('expire', 'scope-b', 1, holder()), null);
    await sleep(1000);
    assert.ok(await leases.renew(lease, first), 'renewed before the TTL');
    await sleep(1000);
    assert.equal(await leases.acquire('expire', 'scope-b', 1, holder()), null, 'the renewal restarted the TTL');
    await sleep(1200);
    const next = await leases.acquire('expire', 'scope-b', 1, holder());
    assert.ok(next && next.revision > lease.revision);
    assert.equal(await leases.renew(lease, first), null, 'the stalled holder learns it lost the lease');
  });

  test('release frees the slot only for its holder', async () => {
    const me = holder();
    const lease = await leases.acquire('release', 'scope-c', 1, me);
    assert.ok(lease);
    assert.equal(await leases.release(lease, holder()), false);
    assert.equal(await leases.release(lease, me), true);
    assert.ok(await leases.acquire('release', 'scope-c', 1, holder()));
  });

  test('transfer hands a held slot to another holder: never free in between, the old revision is dead', async () => {
    const first = holder();
    const lease = await leases.acquire('transfer', 'scope-d', 1, first);
    assert.ok(lease);
    const second = holder();
    const moved = await leases.transfer(lease, second);
    assert.ok(moved && moved.key === lease.key && moved.revision > lease.revision);
    const [entry] = await leases.occupancy('transfer', 'scope-d', 1);
    assert.deepEqual(entry?.holder, second, 'the key names the new holder');
    assert.equal(await leases.acquire('transfer', 'scope-d', 1, holder()), null, 'the slot was never free');
    assert.equal(await leases.transfer(lease, holder()), null, 'a stale revision cannot move it again');
    assert.equal(await leases.renew(lease, first), null, 'the old holder lost it');
    assert.equal(await leases.release(lease, first), false, 'nor can the old holder release it');
    assert.ok(await leases.renew(moved, second), 'the new holder renews it');
  });
});
