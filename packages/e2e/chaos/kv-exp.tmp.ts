import { applyTopology, connectBus, defineTopology, Leases } from '@jetcel/bus';
import { startNatsCluster } from '@jetcel/testing';
const cluster = await startNatsCluster();
const bus = await connectBus({ servers: cluster.urls, name: 'exp', apiTimeoutMs: 2000 });
await applyTopology(bus, defineTopology({ replicas: 3 }));
const leases = await Leases.open(bus);
await leases.acquire('k', 's', 10, { executionId: 'e', token: 't' });
const jsm = await bus.jsm();
const leader = (await jsm.streams.info('KV_LEASES')).cluster?.leader;
const probe = async (label: string, n = 30) => {
  let ok = 0,
    fail = 0;
  const t = Date.now();
  for (let i = 0; i < n; i++) {
    try {
      await leases.occupancy('k', 's');
      ok++;
    } catch {
      fail++;
    }
  }
  let getOk = 0;
  for (let i = 0; i < n; i++) {
    try {
      await leases.renew({ key: 'k.cw.0', revision: 0 }, { executionId: 'e', token: 't' });
      getOk++;
    } catch {
      /* */
    }
  }
  console.log(label, { ok, fail, ms: Date.now() - t, renewCalls: getOk });
};
await probe('all up', 5);
const victim = cluster.nodes.find((n) => n.name !== leader)!; // a non-leader replica
victim.kill();
await new Promise((r) => setTimeout(r, 1000));
await probe(`replica ${victim.name} down`, 6);
await new Promise((r) => setTimeout(r, 10000));

await victim.start();
for (let i = 0; i < 12; i++) {
  await new Promise((r) => setTimeout(r, 5000));
  const hz = await Promise.all(
    cluster.nodes.map(async (n) => {
      const r = await fetch(`${n.monitorUrl}/healthz`);
      return `${n.name}:${r.status}:${await r.text()}`;
    }),
  );
  const metas = await Promise.all(cluster.nodes.map(async (n) => (await n.meta()).leader));
  console.log(i, hz.join(' | '), metas);
}
await probe(`replica ${victim.name} back`);
await bus.close();
await cluster[Symbol.asyncDispose]();
