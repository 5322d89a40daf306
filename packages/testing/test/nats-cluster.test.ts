import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { eventually, startNatsCluster, type NatsCluster } from '../src/index.ts';
import { RawNats } from './helpers/raw-nats.ts';

interface StreamInfo {
  error?: { code: number; description: string };
  state?: { messages: number };
  cluster?: { leader?: string; replicas?: Array<{ name: string; current: boolean; offline?: boolean }> };
}

/** A JetStream API call through `node`, parsed. */
async function api<T>(cluster: NatsCluster, node: number, subject: string, body = ''): Promise<T> {
  const port = cluster.nodes[node]?.port;
  assert.ok(port !== undefined);
  const client = await RawNats.connect(port);
  try {
    return JSON.parse(await client.request(subject, body, 5_000)) as T;
  } finally {
    client.close();
  }
}

test('startNatsCluster: three nodes on loopback form one cluster with a JetStream meta leader', async () => {
  const cluster = await startNatsCluster({ size: 3, name: 'formed' });
  try {
    assert.equal(cluster.urls.length, 3);
    assert.equal(new Set(cluster.urls).size, 3);
    assert.deepEqual(
      cluster.nodes.map((node) => node.name),
      ['node-1', 'node-2', 'node-3'],
    );
    for (const node of cluster.nodes) {
      assert.match(node.url, /^nats:\/\/127\.0\.0\.1:\d+$/);
      assert.notEqual(node.port, 4222, 'must not be the shared machine server');
      assert.equal(typeof node.pid, 'number');
      const client = await RawNats.connect(node.port);
      client.close();
      assert.equal(client.info['version'], '2.9.10');
      assert.equal(client.info['server_name'], node.name);
      assert.equal(client.info['cluster'], 'formed');
      assert.equal(client.info['jetstream'], true);
      const routes = (await fetch(`${node.monitorUrl}/routez`).then((r) => r.json())) as { num_routes: number };
      assert.equal(routes.num_routes, 2, `${node.name} has a route to each other node`);
      const meta = await node.meta();
      assert.equal(meta.clusterSize, 3);
      assert.equal(meta.name, 'formed');
    }
    const leaders = new Set(await Promise.all(cluster.nodes.map(async (node) => (await node.meta()).leader)));
    assert.equal(leaders.size, 1, 'every node names the same meta leader');
    const leader = await cluster.metaLeader();
    assert.ok(leader && leaders.has(leader.name));

    await cluster.stop();
    assert.deepEqual(
      cluster.nodes.map((node) => node.running),
      [false, false, false],
    );
    assert.ok(
      cluster.nodes.every((node) => existsSync(node.storeDir)),
      'stop() keeps the stores',
    );
  } finally {
    await cluster[Symbol.asyncDispose]();
  }
  assert.ok(
    cluster.nodes.every((node) => !existsSync(node.storeDir)),
    'dispose removes the stores',
  );
});

test('startNatsCluster: an R3 stream keeps its messages and takes publishes when its leader is SIGKILLed', async () => {
  await using cluster = await startNatsCluster();
  const created = await api<StreamInfo & { config?: { num_replicas: number } }>(
    cluster,
    0,
    '$JS.API.STREAM.CREATE.R3',
    JSON.stringify({ name: 'R3', subjects: ['r3.>'], storage: 'file', num_replicas: 3 }),
  );
  assert.equal(created.error, undefined, JSON.stringify(created.error));
  assert.equal(created.config?.num_replicas, 3);
  const client = await RawNats.connect(cluster.nodes[0]!.port);
  try {
    for (let i = 0; i < 10; i += 1) {
      const ack = JSON.parse(await client.request(`r3.${i}`, `m${i}`, 5_000)) as { stream?: string; seq?: number };
      assert.equal(ack.stream, 'R3');
      assert.equal(ack.seq, i + 1);
    }
  } finally {
    client.close();
  }
  const before = await api<StreamInfo>(cluster, 0, '$JS.API.STREAM.INFO.R3');
  assert.equal(before.state?.messages, 10);
  assert.equal(before.cluster?.replicas?.length, 2, 'a leader and two replicas');
  const victim = cluster.nodes.find((node) => node.name === before.cluster?.leader);
  assert.ok(victim, `stream leader ${before.cluster?.leader} is one of the nodes`);

  victim.kill('SIGKILL');
  await eventually(() => !victim.running, { timeoutMs: 5_000, message: 'the killed node is gone' });
  const survivor = cluster.nodes.findIndex((node) => node !== victim);
  const after = await eventually(
    async () => {
      const info = await api<StreamInfo>(cluster, survivor, '$JS.API.STREAM.INFO.R3');
      return info.cluster?.leader && info.cluster.leader !== victim.name ? info : undefined;
    },
    { timeoutMs: 20_000, intervalMs: 200, message: 'a new stream leader is elected' },
  );
  assert.equal(after.state?.messages, 10, 'no message lost');
  const publisher = await RawNats.connect(cluster.nodes[survivor]!.port);
  try {
    const ack = JSON.parse(await publisher.request('r3.after', 'after', 5_000)) as { seq?: number };
    assert.equal(ack.seq, 11, 'the stream takes publishes with one node down');
  } finally {
    publisher.close();
  }

  await victim.start();
  await cluster.waitReady();
  const healed = await eventually(
    async () => {
      const info = await api<StreamInfo>(cluster, survivor, '$JS.API.STREAM.INFO.R3');
      const replicas = info.cluster?.replicas ?? [];
      return replicas.length === 2 && replicas.every((replica) => replica.current && !replica.offline)
        ? info
        : undefined;
    },
    { timeoutMs: 20_000, intervalMs: 200, message: 'the restarted node catches up' },
  );
  assert.equal(healed.state?.messages, 11);
});
