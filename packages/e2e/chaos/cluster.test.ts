import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { connectBus, requestJson, type Bus } from '@jetcel/bus';
import { HEADERS } from '@jetcel/contracts';
import { eventually, startNatsCluster, type NatsCluster, type NatsClusterNode } from '@jetcel/testing';
import { Stack, type Reply } from '../test/stack.ts';

type JetStreamManager = Awaited<ReturnType<Bus['jsm']>>;

// Scaling out (docs/operating.md "Scaling out"): a three-node NATS cluster with R3 streams, durable consumers
// and the LEASES KV bucket; two executors and two worker-regular replicas on the same durable
// consumers; every process has all three URLs. 500 instance creates; after 150 accepted commands
// the node leading the most JetStream assets is SIGKILLed, and its supervisor restarts it
// DOWNTIME_MS later. The client contract under failover: a request that fails (timeout, no
// responders, a retryable error) is sent again with the SAME Idempotency-Key. The judges are the
// simulated cloud's own count of servers and the step rows in PostgreSQL.
//
// Why the restart: on nats-server 2.9.10 an ephemeral consumer of an R3 stream (what a KV key
// listing creates, and every throttle admission lists the LEASES keys of its scope) is placed on
// any stream peer, the offline one included, and its creation then times out (fixed upstream by
// nats-server#3820, after 2.9.10). With the node kept down (JETCEL_CHAOS_DOWNTIME_MS=-1) a third to
// a half of the admissions time out until it returns; steps are taken over until their crash budget
// is spent and are dead-lettered (measured: 49 of 500 stuck, 27 dead letters after 150 s).
// JETCEL_CHAOS_LOG=<file> writes every service log line to that file.
//
// The instances are spread over SCOPES cloud settings: the lease occupancy scan reads every live
// key of a scope, so one scope with hundreds of live leases makes the throttle, not the cluster,
// dominate the run (measured: about 10 admissions/s with 300 live leases in one scope).

const COMMANDS = 500;
const KILL_AFTER = 150;
const CLIENTS = 20;
const SCOPES = 20;
const DOWNTIME_MS = Number(process.env['JETCEL_CHAOS_DOWNTIME_MS'] ?? 10_000);
const REQUEST_TIMEOUT_MS = 3_000;
const RETRY_PAUSE_MS = 250;

let cluster: NatsCluster;
let stack: Stack;

before(async () => {
  cluster = await startNatsCluster({ size: 3, name: 'jetcel-chaos' });
  stack = await Stack.start({
    natsUrls: cluster.urls,
    buildDelayMs: 200,
    env: { JETCEL_REPLICAS: '3', INSTANCE_POLL_INTERVAL_MS: '200' },
  });
  await Promise.all([
    stack.spawn('executor'),
    stack.spawn('executor'),
    stack.spawn('worker', { queue: 'regular' }),
    stack.spawn('worker', { queue: 'regular' }),
  ]);
  for (let scope = 0; scope < SCOPES; scope += 1)
    await stack.ok('cmd.cloud_settings.create', { id: `cs-${scope}`, name: `Cloud ${scope}` });
  // The throttle is not under test here: 30 per scope (25 creates each), so no create ever waits for a slot.
  await stack.setThrottleLimit('*', 30);
});

after(async () => {
  await stack?.stop();
  await cluster?.[Symbol.asyncDispose]();
});

interface Asset {
  kind: 'stream' | 'consumer';
  name: string;
  leader: string;
  replicas: number;
}

/** Every stream (task queues, EVENTS, KV_LEASES) and durable consumer, with its leader and replica count. */
async function assets(): Promise<Asset[]> {
  const jsm = await stack.bus.jsm();
  const result: Asset[] = [];
  for await (const stream of jsm.streams.list()) {
    result.push({
      kind: 'stream',
      name: stream.config.name,
      leader: stream.cluster?.leader ?? '',
      replicas: stream.config.num_replicas,
    });
    for await (const consumer of jsm.consumers.list(stream.config.name)) {
      // Ordered consumers (KV key listings) are ephemeral R1 by design: only durables are replicated.
      if (!consumer.config.durable_name) continue;
      result.push({
        kind: 'consumer',
        name: `${stream.config.name}/${consumer.name}`,
        leader: consumer.cluster?.leader ?? '',
        replicas: consumer.config.num_replicas || stream.config.num_replicas,
      });
    }
  }
  return result;
}

/** The node to kill: the meta leader scores 3, TASKS_REGULAR and its consumer 2 each, any other asset 1. */
async function pickVictim(): Promise<{ node: NatsClusterNode; leads: string[] }> {
  const meta = await cluster.metaLeader();
  const led = await assets();
  const weight = (asset: Asset): number => (asset.name.startsWith('TASKS_REGULAR') ? 2 : 1);
  const scored = cluster.nodes.map((node) => {
    const mine = led.filter((asset) => asset.leader === node.name);
    const leads = [...(meta === node ? ['$META'] : []), ...mine.map((asset) => asset.name)];
    const score = (meta === node ? 3 : 0) + mine.reduce((sum, asset) => sum + weight(asset), 0);
    return { node, leads, score };
  });
  scored.sort((a, b) => b.score - a.score);
  assert.ok(scored[0]);
  return scored[0];
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;

/** Warnings, errors and NATS status changes of every service, counted by message, with first and last time. */
function summarizeServiceLogs(): string {
  const groups = new Map<string, { count: number; first: string; last: string }>();
  const lines = stack.services.flatMap((service) => service.output());
  if (process.env['JETCEL_CHAOS_LOG']) writeFileSync(process.env['JETCEL_CHAOS_LOG'], lines.join('\n'));
  for (const line of lines) {
    let entry: { level?: string; msg?: string; service?: string; error?: unknown; event?: string; time?: string };
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      continue;
    }
    if (entry.level !== 'warn' && entry.level !== 'error' && entry.msg !== 'nats status') continue;
    const error = typeof entry.error === 'string' ? entry.error : (entry.error as { message?: string })?.message;
    const key = `${entry.service} ${entry.level} ${entry.msg}${entry.event ? ` ${entry.event}` : ''}${
      error ? `: ${error.replace(UUID, '<id>').replace(/\d+/g, 'N').slice(0, 120)}` : ''
    }`;
    const group = groups.get(key) ?? { count: 0, first: entry.time ?? '', last: '' };
    group.count += 1;
    group.last = entry.time ?? '';
    groups.set(key, group);
  }
  return [...groups]
    .map(([key, group]) => `${group.count} × ${key} (${group.first.slice(11, 23)} … ${group.last.slice(11, 23)})`)
    .join('\n');
}

interface Failure {
  index: number;
  attempt: number;
  at: number;
  reason: string;
}

interface Chaos {
  node: NatsClusterNode;
  leads: string[];
  killedAt: number;
  /** ms after the kill until each asset the victim led had a new leader. */
  newLeaderMs: Record<string, number>;
  restartedAfterMs?: number;
  /** ms after the restart until every R3 stream counted the node as a current replica again. */
  caughtUpMs?: number;
}

interface KillPlan {
  node: NatsClusterNode;
  leads: string[];
  probe: Bus;
  jsm: JetStreamManager;
}

/**
 * Chooses the victim and opens the probe connection before the run, so the kill lands exactly
 * after KILL_AFTER accepted commands (listing every asset's leader takes seconds under load).
 */
async function planKill(): Promise<KillPlan> {
  const { node, leads } = await pickVictim();
  // A JetStream API request to an asset without a leader gets no answer at all: probe with a short
  // timeout (or the election times are only known to the nearest 5 s API timeout), through a
  // connection to the surviving nodes. Its JetStream manager is made now: that asks the meta leader.
  const survivors = cluster.nodes.filter((other) => other !== node).map((other) => other.url);
  const probe = await connectBus({ servers: survivors, name: 'e2e-failover-probe', apiTimeoutMs: 500 });
  return { node, leads, probe, jsm: await probe.jsm() };
}

/** SIGKILLs the chosen node, times the elections, and restarts it DOWNTIME_MS after the kill. */
async function killLeadingNode({ node, leads, probe, jsm }: KillPlan): Promise<Chaos> {
  const killedAt = Date.now();
  node.kill('SIGKILL');
  console.log(`${new Date(killedAt).toISOString()}: SIGKILL ${node.name}, which led ${leads.join(', ')}`);
  const chaos: Chaos = { node, leads, killedAt, newLeaderMs: {} };
  try {
    await timeFailover(jsm, chaos);
  } finally {
    await probe.close();
  }
  return chaos;
}

async function timeFailover(jsm: JetStreamManager, chaos: Chaos): Promise<void> {
  const { node, leads, killedAt } = chaos;
  await Promise.all(
    leads.map((asset) =>
      eventually(
        async () => {
          if (asset === '$META') return (await cluster.metaLeader()) !== undefined;
          const [stream, consumer] = asset.split('/');
          const info = consumer
            ? await jsm.consumers.info(stream ?? '', consumer)
            : await jsm.streams.info(stream ?? '');
          return info.cluster?.leader !== undefined && info.cluster.leader !== node.name;
        },
        { timeoutMs: 60_000, intervalMs: 50, message: `${asset} never got a new leader` },
      ).then(() => {
        chaos.newLeaderMs[asset] = Date.now() - killedAt;
      }),
    ),
  );
  if (DOWNTIME_MS < 0) return;
  await sleep(killedAt + DOWNTIME_MS - Date.now());
  const restartedAt = Date.now();
  await node.start();
  chaos.restartedAfterMs = restartedAt - killedAt;
  await cluster.waitReady();
  await eventually(
    async () => {
      for await (const stream of jsm.streams.list()) {
        const replicas = stream.cluster?.replicas ?? [];
        if (stream.cluster?.leader !== node.name && !replicas.some((peer) => peer.name === node.name && peer.current))
          return false;
      }
      return true;
    },
    { timeoutMs: 60_000, intervalMs: 250, message: `${node.name} never caught up` },
  );
  chaos.caughtUpMs = Date.now() - restartedAt;
}

test(
  `${COMMANDS} instance creates on a three-node cluster (R3 streams and KV) survive SIGKILL of a leading node`,
  { timeout: 240_000 },
  async () => {
    const initial = await assets();
    for (const asset of initial) assert.equal(asset.replicas, 3, `${asset.kind} ${asset.name} is R3`);
    assert.ok(
      initial.some((asset) => asset.name === 'KV_LEASES'),
      'the LEASES bucket exists',
    );

    const plan = await planKill();
    const failures: Failure[] = [];
    const accepted: Array<{ id: string; at: number; attempts: number }> = [];
    let acceptedCount = 0;
    let chaos: Promise<Chaos> | undefined;
    const started = Date.now();

    const create = async (index: number): Promise<void> => {
      const key = `cluster-chaos-${index}`;
      const body = JSON.stringify({ name: `c-${index}`, cloudSettingsId: `cs-${index % SCOPES}` });
      for (let attempt = 1; ; attempt += 1) {
        let reason: string;
        try {
          const reply = (await requestJson(stack.bus, 'cmd.instance.create', body, {
            timeoutMs: REQUEST_TIMEOUT_MS,
            headers: { [HEADERS.idempotencyKey]: key },
          })) as Reply;
          if (reply.ok) {
            accepted[index] = { id: (reply.data as { id: string }).id, at: Date.now(), attempts: attempt };
            acceptedCount += 1;
            if (acceptedCount === KILL_AFTER) {
              chaos = killLeadingNode(plan);
              chaos.catch(() => {}); // awaited below; this only keeps a failure from being "unhandled"
            }
            return;
          }
          if (!reply.error.retryable) throw new Error(`c-${index}: ${JSON.stringify(reply.error)}`);
          reason = reply.error.code;
        } catch (error) {
          const code = (error as { code?: string }).code;
          if (code === undefined) throw error;
          reason = code; // a BusError: REQUEST_TIMEOUT, NO_RESPONDERS…
        }
        failures.push({ index, attempt, at: Date.now(), reason });
        if (attempt >= 100) throw new Error(`c-${index}: still failing after ${attempt} attempts (${reason})`);
        await sleep(RETRY_PAUSE_MS);
      }
    };

    const progress = setInterval(() => {
      void stack
        .sql<{ state: string; n: string }>(
          'select state, count(*) as n from ref_instance group by state order by state',
        )
        .then(async (states) => {
          const [row] = await stack.sql<{ running: string; unpublished: string; dead: string }>(
            `select (select count(*) from jetcel_step where status = 'running') as running,
                    (select count(*) from jetcel_outbox where published_at is null) as unpublished,
                    (select count(*) from jetcel_dead_letter) as dead`,
          );
          console.log(
            `+${Date.now() - started} ms: accepted ${acceptedCount}, failed requests ${failures.length}; ` +
              `${states.map((state) => `${state.state} ${state.n}`).join(', ')}; steps running ${row?.running}, ` +
              `outbox unpublished ${row?.unpublished}, dead letters ${row?.dead}`,
          );
        })
        .catch(() => {});
    }, 5_000);

    try {
      let next = 0;
      await Promise.all(
        Array.from({ length: CLIENTS }, async () => {
          while (next < COMMANDS) await create(next++);
        }),
      );
      const sentAfterMs = Date.now() - started;
      assert.ok(chaos, 'a node was killed');
      const ids = accepted.map((entry) => entry.id);
      assert.equal(new Set(ids).size, COMMANDS, 'one instance per Idempotency-Key');

      await eventually(
        async () => {
          const [row] = await stack.sql<{ ok: string; erred: string }>(
            `select count(*) filter (where state = 'OK') as ok, count(*) filter (where state = 'ERRED') as erred
             from ref_instance where id = any($1)`,
            [ids],
          );
          if (Number(row?.erred) > 0) throw new Error(`${row?.erred} instances ERRED`);
          return Number(row?.ok) === COMMANDS;
        },
        { timeoutMs: 150_000, intervalMs: 500, message: `all ${COMMANDS} instances OK` },
      ).catch(async (error: unknown) => {
        const stuck = await stack.sql<{ id: string }>("select id from ref_instance where state <> 'OK' limit 1");
        const detail = stuck[0] ? await stack.diagnose(stuck[0].id) : '';
        throw new Error(`${(error as Error).message}\n${detail}`, { cause: error });
      });
      const allOkAfterMs = Date.now() - started;
      const failover = await chaos;

      // Exactly 500 instances and executions, all OK and succeeded.
      const [counts] = await stack.sql<Record<string, string>>(
        `select (select count(*) from ref_instance) as instances,
                (select count(*) from ref_instance where state = 'OK') as ok,
                (select count(*) from jetcel_execution where executor = 'instance.create') as executions,
                (select count(*) from jetcel_execution where executor = 'instance.create' and status = 'succeeded') as succeeded,
                (select count(*) from jetcel_idempotency_key where subject = 'cmd.instance.create') as keys,
                (select count(*) from jetcel_dead_letter) as dead_letters`,
      );
      assert.deepEqual(
        { ...counts },
        { instances: '500', ok: '500', executions: '500', succeeded: '500', keys: '500', dead_letters: '0' },
      );

      // No step committed twice: one row per (execution, role, position, member); sane attempts and polls.
      const duplicates = await stack.sql(
        `select execution_id, role, position, member, count(*) from jetcel_step
         group by execution_id, role, position, member having count(*) > 1`,
      );
      assert.deepEqual(duplicates, [], 'one step row per (role, position, member)');
      const steps = await stack.sql<{
        task: string;
        status: string;
        n: string;
        max_attempts: number;
        min_polls: number;
        max_polls: number;
        max_takeovers: number;
        taken_over: string;
      }>(
        `select task, status, count(*) as n, max(attempts) as max_attempts, min(polls) as min_polls,
                max(polls) as max_polls, max(takeovers) as max_takeovers,
                count(*) filter (where takeovers > 0) as taken_over
         from jetcel_step group by task, status order by task, status`,
      );
      const summary = JSON.stringify(steps);
      assert.deepEqual(
        steps.map((row) => `${row.task}:${row.status}:${row.n}`),
        ['instance.create_server:succeeded:500', 'instance.poll_server:succeeded:500', 'jetcel.set_ok:succeeded:500'],
        summary,
      );
      // The cloud's own count: exactly 500 servers, none created twice.
      const stats = (await fetch(`${stack.cloud.url}/stats`).then((response) => response.json())) as {
        settings: Record<string, { serversCreated: number; servers: number; peakBuilding: number }>;
        fencingRefusals: number;
      };

      // No step failed and was retried, except where the cloud refused a stale fencing token: on
      // nats-server 2.9.10 two racing creates of one lease key can both be stored in an R3 bucket
      // (nats-server#4320, fixed in 2.9.21); the fencing token is what stops the older holder.
      const [{ retried } = { retried: -1 }] = await stack.sql<{ retried: number }>(
        'select coalesce(sum(attempts - 1), 0)::int as retried from jetcel_step',
      );
      assert.ok(
        retried <= stats.fencingRefusals,
        `retries ${retried} ≤ fencing refusals ${stats.fencingRefusals} (${summary})`,
      );
      for (const row of steps) {
        assert.ok(row.max_attempts <= 2, `${row.task}: at most one retry (${summary})`);
        assert.ok(row.max_takeovers <= 3, `${row.task}: takeovers within the crash budget (${summary})`);
        assert.ok(row.min_polls >= 0 && row.max_polls <= 50, `${row.task}: polls (${summary})`);
      }
      if (retried > 0) console.log(`${retried} step(s) retried after ${stats.fencingRefusals} fencing refusal(s)`);
      const total = (field: 'serversCreated' | 'servers'): number =>
        Object.values(stats.settings).reduce((sum, entry) => sum + entry[field], 0);
      assert.equal(total('serversCreated'), COMMANDS, 'serversCreated');
      assert.equal(total('servers'), COMMANDS, 'servers');

      // Timings.
      const [stall] = await stack.sql<{ gap_ms: number; after_kill_ms: number }>(
        `select gap_ms, extract(epoch from (at - to_timestamp($1 / 1000.0))) * 1000 as after_kill_ms from (
           select extract(epoch from (finished_at - lag(finished_at) over (order by finished_at))) * 1000 as gap_ms,
                  finished_at as at
           from jetcel_step where finished_at is not null) gaps
         order by gap_ms desc nulls last limit 1`,
        [failover.killedAt],
      );
      const times = accepted.map((entry) => entry.at).sort((a, b) => a - b);
      const commandGapMs = Math.max(...times.slice(1).map((at, index) => at - (times[index] ?? at)));
      const reasons: Record<string, number> = {};
      for (const failure of failures) reasons[failure.reason] = (reasons[failure.reason] ?? 0) + 1;
      const report = {
        victim: failover.node.name,
        victimLed: failover.leads,
        killedAfterMs: failover.killedAt - started,
        newLeaderMs: failover.newLeaderMs,
        restartedAfterMs: failover.restartedAfterMs ?? 'never',
        caughtUpMs: failover.caughtUpMs,
        sentAfterMs,
        allOkAfterMs,
        longestGapBetweenAcceptedCommandsMs: commandGapMs,
        longestGapBetweenStepCommits: {
          ms: Math.round(Number(stall?.gap_ms ?? 0)),
          endedMsAfterKill: Math.round(Number(stall?.after_kill_ms ?? 0)),
        },
        commandsRetried: accepted.filter((entry) => entry.attempts > 1).length,
        failedRequests: failures.length,
        failureReasons: reasons,
        stepsTakenOver: steps.reduce((sum, row) => sum + Number(row.taken_over), 0),
        peakBuildingPerScope: Math.max(...Object.values(stats.settings).map((entry) => entry.peakBuilding)),
      };
      console.log(`cluster chaos: ${JSON.stringify(report, null, 1)}`);
    } finally {
      clearInterval(progress);
      if (!chaos) await plan.probe.close();
      console.log(`service warnings, errors and NATS status changes:\n${summarizeServiceLogs()}`);
    }
  },
);
