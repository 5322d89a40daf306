import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { EVENTS_STREAM, taskConsumer, taskStream, taskSubject } from '@jetcel/contracts';
import { AckPolicy, DeliverPolicy, DiscardPolicy, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import { applyTopology, defineTopology, effectiveAckWaitMs, TopologyDriftError, verifyTopology } from '../src/index.ts';
import { useTestBus } from './helpers.ts';

const MIB = 1024 * 1024;

describe('topology', () => {
  const server = useTestBus({ cleanStreams: true });

  test('defineTopology - a short and a long WorkQueue lane per queue with one durable each, plus EVENTS', () => {
    const topology = defineTopology({ maxBytes: { heavy: 64 * MIB }, ackWaitMs: { background: 45_000 } });
    assert.deepEqual(
      topology.streams.map((s) => [s.name, s.subjects, s.retention, s.discard, s.maxAgeMs, s.maxBytes]),
      [
        ['TASKS_REGULAR', ['tasks.regular'], 'workqueue', 'new', 0, 256 * MIB],
        ['TASKS_REGULAR_LONG', ['tasks.regular.long'], 'workqueue', 'new', 0, 256 * MIB],
        ['TASKS_HEAVY', ['tasks.heavy'], 'workqueue', 'new', 0, 64 * MIB],
        ['TASKS_HEAVY_LONG', ['tasks.heavy.long'], 'workqueue', 'new', 0, 64 * MIB],
        ['TASKS_BACKGROUND', ['tasks.background'], 'workqueue', 'new', 0, 256 * MIB],
        ['TASKS_BACKGROUND_LONG', ['tasks.background.long'], 'workqueue', 'new', 0, 256 * MIB],
        ['EVENTS', ['events.>'], 'limits', 'old', 7 * 24 * 3600_000, -1],
      ],
    );
    assert.deepEqual(
      topology.consumers.map((c) => [c.stream, c.durable, c.ackWaitMs, c.maxDeliver, c.maxAckPending, c.backoffMs]),
      [
        ['TASKS_REGULAR', 'worker-regular', 30_000, 1000, 10_000, []],
        ['TASKS_REGULAR_LONG', 'worker-regular-long', 30_000, 1000, 10_000, []],
        ['TASKS_HEAVY', 'worker-heavy', 60_000, 1000, 10_000, []],
        ['TASKS_HEAVY_LONG', 'worker-heavy-long', 60_000, 1000, 10_000, []],
        ['TASKS_BACKGROUND', 'worker-background', 45_000, 1000, 10_000, []],
        ['TASKS_BACKGROUND_LONG', 'worker-background-long', 45_000, 1000, 10_000, []],
      ],
    );
  });

  test('applyTopology - creates streams and consumers with the configured settings, then is idempotent', async () => {
    const topology = defineTopology();
    const first = await applyTopology(server.bus, topology);
    assert.deepEqual(
      first.changes.map((c) => `${c.action} ${c.kind} ${c.name}`),
      [
        'created stream TASKS_REGULAR',
        'created stream TASKS_REGULAR_LONG',
        'created stream TASKS_HEAVY',
        'created stream TASKS_HEAVY_LONG',
        'created stream TASKS_BACKGROUND',
        'created stream TASKS_BACKGROUND_LONG',
        'created stream EVENTS',
        'created consumer TASKS_REGULAR/worker-regular',
        'created consumer TASKS_REGULAR_LONG/worker-regular-long',
        'created consumer TASKS_HEAVY/worker-heavy',
        'created consumer TASKS_HEAVY_LONG/worker-heavy-long',
        'created consumer TASKS_BACKGROUND/worker-background',
        'created consumer TASKS_BACKGROUND_LONG/worker-background-long',
        'created bucket LEASES',
      ],
    );

    // The lease bucket: one value per key, every key expiring a TTL after its last write.
    const leases = (await (await server.bus.jsm()).streams.info('KV_LEASES')).config;
    assert.equal(leases.max_age, nanos(60_000));
    assert.equal(leases.max_msgs_per_subject, 1);

    const jsm = await server.bus.jsm();
    const regular = (await jsm.streams.info(taskStream('regular'))).config;
    assert.deepEqual(regular.subjects, [taskSubject('regular')]);
    assert.equal(regular.retention, RetentionPolicy.Workqueue);
    assert.equal(regular.discard, DiscardPolicy.New);
    assert.equal(regular.max_age, 0);
    assert.equal(regular.max_bytes, 256 * MIB);
    assert.equal(regular.storage, StorageType.File);
    assert.equal(regular.duplicate_window, nanos(120_000));
    assert.equal(regular.num_replicas, 1);

    const events = (await jsm.streams.info(EVENTS_STREAM)).config;
    assert.equal(events.retention, RetentionPolicy.Limits);
    assert.equal(events.max_age, nanos(7 * 24 * 3600_000));

    const heavy = (await jsm.consumers.info(taskStream('heavy'), taskConsumer('heavy'))).config;
    assert.equal(heavy.durable_name, 'worker-heavy');
    assert.equal(heavy.ack_policy, AckPolicy.Explicit);
    assert.equal(heavy.deliver_policy, DeliverPolicy.All);
    assert.equal(heavy.ack_wait, nanos(60_000));
    assert.equal(heavy.max_deliver, 1000);
    assert.equal(heavy.max_ack_pending, 10_000);
    assert.equal(heavy.backoff, undefined);

    const second = await applyTopology(server.bus, topology);
    assert.ok(
      second.changes.every((c) => c.action === 'unchanged'),
      JSON.stringify(second.changes),
    );
    await verifyTopology(server.bus, topology);
  });

  test('a changed ack_wait is drift for verifyTopology and an update for applyTopology', async () => {
    await applyTopology(server.bus, defineTopology());
    const changed = defineTopology({ ackWaitMs: { regular: 45_000 } });

    const err = await verifyTopology(server.bus, changed).then(
      () => assert.fail('verifyTopology should have thrown'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof TopologyDriftError);
    assert.equal(err.code, 'TOPOLOGY_DRIFT');
    // both lanes of the queue
    assert.deepEqual(
      err.drift,
      ['TASKS_REGULAR/worker-regular', 'TASKS_REGULAR_LONG/worker-regular-long'].map((name) => ({
        kind: 'consumer',
        name,
        problem: 'differs',
        field: 'ack_wait_ms',
        expected: 45_000,
        actual: 30_000,
      })),
    );
    // a heavy worker only checks its own stream and is not bothered
    await verifyTopology(server.bus, changed, { streams: [taskStream('heavy')] });

    const report = await applyTopology(server.bus, changed);
    const updated = report.changes.filter((c) => c.action === 'updated');
    assert.deepEqual(
      updated,
      ['TASKS_REGULAR/worker-regular', 'TASKS_REGULAR_LONG/worker-regular-long'].map((name) => ({
        kind: 'consumer',
        name,
        action: 'updated',
        fields: [{ field: 'ack_wait_ms', expected: 45_000, actual: 30_000 }],
      })),
    );
    await verifyTopology(server.bus, changed);
    assert.equal(await effectiveAckWaitMs(server.bus, 'regular'), 45_000);
  });

  test('verifyTopology lists missing streams and consumers, and stream field drift', async () => {
    const topology = defineTopology();
    await applyTopology(server.bus, topology);
    const jsm = await server.bus.jsm();
    await jsm.consumers.delete(taskStream('heavy'), taskConsumer('heavy'));
    await jsm.streams.delete(EVENTS_STREAM);
    await jsm.streams.update(taskStream('background'), { max_bytes: 1024 });

    const err = await verifyTopology(server.bus, topology).catch((e: unknown) => e);
    assert.ok(err instanceof TopologyDriftError);
    assert.deepEqual(
      err.drift.map((d) =>
        d.problem === 'missing' ? `missing ${d.name}` : `${d.name} ${d.field}=${String(d.actual)}`,
      ),
      ['TASKS_BACKGROUND max_bytes=1024', 'missing EVENTS', 'missing TASKS_HEAVY/worker-heavy'],
    );

    const report = await applyTopology(server.bus, topology);
    assert.deepEqual(
      report.changes.filter((c) => c.action !== 'unchanged').map((c) => `${c.action} ${c.name}`),
      ['updated TASKS_BACKGROUND', 'created EVENTS', 'created TASKS_HEAVY/worker-heavy'],
    );
    await verifyTopology(server.bus, topology);
  });

  test('a BackOff added by hand is drift (it replaces ack_wait on 2.9) and applyTopology removes it', async () => {
    const topology = defineTopology();
    await applyTopology(server.bus, topology);
    const jsm = await server.bus.jsm();
    await jsm.consumers.update(taskStream('regular'), taskConsumer('regular'), {
      backoff: [nanos(1_000), nanos(2_000)],
    });
    assert.equal(await effectiveAckWaitMs(server.bus, 'regular'), 1_000);

    const err = await verifyTopology(server.bus, topology).catch((e: unknown) => e);
    assert.ok(err instanceof TopologyDriftError);
    assert.deepEqual(err.drift.map((d) => (d.problem === 'differs' ? d.field : d.problem)).sort(), [
      'ack_wait_ms',
      'backoff_ms',
    ]);

    await applyTopology(server.bus, topology);
    await verifyTopology(server.bus, topology);
    assert.equal(await effectiveAckWaitMs(server.bus, 'regular'), 30_000);
  });

  test('applyTopology - a lease bucket with another TTL is drift, and is updated', async () => {
    await applyTopology(server.bus, defineTopology({ leaseTtlMs: 30_000 }));
    const wanted = defineTopology({ leaseTtlMs: 45_000 });
    await assert.rejects(
      verifyTopology(server.bus, wanted),
      (error: unknown) =>
        error instanceof TopologyDriftError && /bucket LEASES: ttl_ms is 30000, expected 45000/.test(error.message),
    );
    const report = await applyTopology(server.bus, wanted);
    assert.deepEqual(
      report.changes.filter((change) => change.kind === 'bucket').map((change) => change.action),
      ['updated'],
    );
    await verifyTopology(server.bus, wanted);
  });
});
