import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { requestJson } from '@jetcel/bus';
import { HEADERS } from '@jetcel/contracts';
import { eventually, startNatsCluster, type NatsCluster, type NatsClusterNode } from '@jetcel/testing';
import { Stack, type Reply } from '../test/stack.ts';

// Scaling out (DESIGN "Scaling out"): a three-node NATS cluster with R3 streams, consumers and the
// LEASES KV bucket, two executors and two worker-regular replicas on the same durable consumers.
// 500 instance creates; after ~150 accepted commands the node leading the most JetStream assets
// is SIGKILLed. The client contract under failover: a request that fails (timeout, no responders,
// a retryable error) is sent again with the SAME Idempotency-Key. The judge is the simulated
// cloud's own count of servers, plus the step rows in PostgreSQL.

const COMMANDS = 500;
const KILL_AFTER = Number(process.env['KILL_AFTER_DBG'] ?? 150);
const CLIENTS = 20;
const SCOPES = Number(process.env['SCOPES_DBG'] ?? 20);
const scopeOf = (index: number): string => (SCOPES === 1 ? 'default' : `cs-${index % SCOPES}`);
const REQUEST_TIMEOUT_MS = 3_000;
const RETRY_PAUSE_MS = 250;

let cluster: NatsCluster;
let stack: Stack;

before(async () => {
  cluster = await startNatsCluster({ size: 3, name: 'jetcel-chaos' });
  stack = await Stack.start({
    ...(process.env['R1_DBG'] ? {} : { natsUrls: cluster.urls }),
    buildDelayMs: 200,
    env: {
      ...(process.env['R1_DBG'] ? {} : { JETCEL_REPLICAS: '3' }),
      INSTANCE_POLL_INTERVAL_MS: '200',
      THROTTLE_RECHECK_MS: '500',
    },
  });
  await Promise.all([
    stack.spawn('executor'),
    stack.spawn('executor'),
    stack.spawn('worker', { queue: 'regular' }),
    stack.spawn('worker', { queue: 'regular' }),
  ]);
  for (let scope = 0; SCOPES > 1 && scope < SCOPES; scope += 1)
    await stack.ok('cmd.cloud_settings.create', { id: `cs-${scope}`, name: `Cloud ${scope}` });
  // The throttle is not under test here: high enough that 500 creates never wait on it for long.
  await stack.sql(
    `insert into jetcel_throttle_limit (kind, scope, "limit") values ('instance_provision', '*', ${Number(process.env['LIMIT_DBG'] ?? 100)})
     on conflict (kind, scope) do update set "limit" = excluded."limit"`,
  );
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

/** The node to kill: the meta leader counts 3, the regular task stream and its consumer 2, anything else 1. */
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
  const best = scored[0];
  assert.ok(best);
  return best;
}

/** Warnings and errors of every service, counted by message and error, with first and last time. */
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
      error ? `: ${error.replace(/\d+/g, 'N').slice(0, 120)}` : ''
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

test(
  `${COMMANDS} instance creates on a three-node cluster (R3 streams and KV) survive SIGKILL of a leading node`,
  { timeout: 240_000 },
  async () => {
    const before = await assets();
    for (const asset of before)
      if (!process.env['R1_DBG'])
        assert.equal(asset.replicas, 3, `${asset.kind} ${asset.name} is R3 (${JSON.stringify(asset)})`);
    assert.ok(
      before.some((asset) => asset.name === 'KV_LEASES'),
      'the LEASES bucket exists',
    );

    const failures: Failure[] = [];
    const accepted: Array<{ id: string; at: number; attempts: number }> = [];
    const started = Date.now();
    let killedAt: number | undefined;
    let killing: Promise<void> | undefined;
    let victim: { node: NatsClusterNode; leads: string[] } | undefined;
    const gaps: { metaLeaderMs?: number; tasksStreamLeaderMs?: number; leasesLeaderMs?: number } = {};

    const kill = async (): Promise<void> => {
      victim = await pickVictim();
      killedAt = Date.now();
      victim.node.kill('SIGKILL');
      console.log(
        `${new Date(killedAt).toISOString()}: SIGKILL ${victim.node.name}, leading ${victim.leads.join(', ')}`,
      );
      const dead = victim.node.name;
      const waitForLeader = async (name: string): Promise<number> => {
        const jsm = await stack.bus.jsm();
        await eventually(
          async () => {
            const info = await jsm.streams.info(name);
            return info.cluster?.leader && info.cluster.leader !== dead;
          },
          { timeoutMs: 60_000, intervalMs: 100, message: `${name} never got a new leader` },
        );
        return Date.now() - (killedAt ?? 0);
      };
      const [meta, tasks, leases] = await Promise.all([
        eventually(async () => (await cluster.metaLeader()) !== undefined, { timeoutMs: 60_000, intervalMs: 100 }).then(
          () => Date.now() - (killedAt ?? 0),
        ),
        waitForLeader('TASKS_REGULAR'),
        waitForLeader('KV_LEASES'),
      ]);
      gaps.metaLeaderMs = meta;
      gaps.tasksStreamLeaderMs = tasks;
      gaps.leasesLeaderMs = leases;
    };

    const create = async (index: number): Promise<void> => {
      const key = `cluster-chaos-${index}`;
      const body = JSON.stringify({ name: `c-${index}`, cloudSettingsId: scopeOf(index) });
      for (let attempt = 1; ; attempt += 1) {
        let reason: string;
        try {
          const reply = (await requestJson(stack.bus, 'cmd.instance.create', body, {
            timeoutMs: REQUEST_TIMEOUT_MS,
            headers: { [HEADERS.idempotencyKey]: key },
          })) as Reply;
          if (reply.ok) {
            accepted[index] = { id: (reply.data as { id: string }).id, at: Date.now(), attempts: attempt };
            if (accepted.filter(Boolean).length === KILL_AFTER) killing = kill();
            return;
          }
          if (!reply.error.retryable) throw new Error(`c-${index}: ${JSON.stringify(reply.error)}`);
          reason = reply.error.code;
        } catch (error) {
          const code = (error as { code?: string }).code;
          if (code === undefined) throw error;
          reason = code;
        }
        failures.push({ index, attempt, at: Date.now(), reason });
        if (attempt >= 100) throw new Error(`c-${index}: still failing after ${attempt} attempts (${reason})`);
        await sleep(RETRY_PAUSE_MS);
      }
    };

    const progress = setInterval(() => {
      void stack
        .sql<{ state: string; n: string }>('select state, count(*) as n from ref_instance group by state')
        .then(async (states) => {
          const [row] = await stack.sql<{ waiters: string; running: string; unpublished: string }>(
            `select (select count(*) from jetcel_throttle_waiter) as waiters,
                    (select count(*) from jetcel_step where status = 'running') as running,
                    (select count(*) from jetcel_outbox where published_at is null) as unpublished`,
          );
          console.log(
            `+${Date.now() - started} ms: accepted ${accepted.filter(Boolean).length}, failed requests ${failures.length}, ` +
              `${states.map((state) => `${state.state} ${state.n}`).join(', ')}; ${JSON.stringify(row)}`,
          );
        })
        .catch(() => {});
    }, 5_000);
    try {
      await run();
    } finally {
      clearInterval(progress);
      console.log(`service log summary:\n${summarizeServiceLogs()}`);
    }

    async function run(): Promise<void> {
      let next = 0;
      await Promise.all(
        Array.from({ length: CLIENTS }, async () => {
          while (next < COMMANDS) await create(next++);
        }),
      );
      const sentAfter = Date.now() - started;
      await killing;
      if (KILL_AFTER <= COMMANDS) assert.ok(victim && killedAt, 'a node was killed');

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
        throw new Error(`${(error as Error).message}\n${stuck[0] ? await stack.diagnose(stuck[0].id) : ''}`, {
          cause: error,
        });
      });
      const doneAfter = Date.now() - started;

      // Exactly 500 instances, each OK, each with one succeeded create execution.
      const [counts] = await stack.sql<{ instances: string; ok: string; executions: string; succeeded: string }>(
        `select (select count(*) from ref_instance) as instances,
              (select count(*) from ref_instance where state = 'OK') as ok,
              (select count(*) from jetcel_execution where executor = 'instance.create') as executions,
              (select count(*) from jetcel_execution where executor = 'instance.create' and status = 'succeeded') as succeeded`,
      );
      assert.deepEqual(
        { ...counts },
        { instances: '500', ok: '500', executions: '500', succeeded: '500' },
        'exactly 500 instances and executions',
      );

      // No step committed twice: one row per (execution, role, position, member), sane attempts and polls.
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
        max_polls: number;
        min_polls: number;
        max_takeovers: number;
      }>(
        `select task, status, count(*) as n, max(attempts) as max_attempts, max(polls) as max_polls,
              min(polls) as min_polls, max(takeovers) as max_takeovers
       from jetcel_step group by task, status order by task, status`,
      );
      const byTask = Object.fromEntries(steps.map((row) => [`${row.task}:${row.status}`, row]));
      assert.equal(byTask['instance.create_server:succeeded']?.n, '500', JSON.stringify(steps));
      assert.equal(byTask['instance.poll_server:succeeded']?.n, '500', JSON.stringify(steps));
      assert.equal(
        steps.filter((row) => row.status !== 'succeeded').length,
        0,
        `every step succeeded: ${JSON.stringify(steps)}`,
      );
      assert.equal(byTask['instance.create_server:succeeded']?.max_attempts, 1, 'no create call was attempted twice');
      const poll = byTask['instance.poll_server:succeeded'];
      assert.ok(poll && poll.min_polls >= 0 && poll.max_polls <= 100, `poll counts ${JSON.stringify(poll)}`);
      assert.ok(
        steps.every((row) => row.max_attempts <= 3),
        `attempts stay low: ${JSON.stringify(steps)}`,
      );

      // The cloud's own count: exactly 500 servers, none created twice.
      const stats = (await fetch(`${stack.cloud.url}/stats`).then((r) => r.json())) as {
        settings: Record<string, { serversCreated: number; servers: number; peakBuilding: number }>;
      };
      const sum = (field: 'serversCreated' | 'servers'): number =>
        Object.values(stats.settings).reduce((total, entry) => total + entry[field], 0);
      assert.equal(sum('serversCreated'), COMMANDS, 'serversCreated');
      assert.equal(sum('servers'), COMMANDS, 'servers');

      // Nothing left behind: the outbox is drained, no lease or waiter left.
      await eventually(
        async () =>
          (await stack.sql("select 1 from jetcel_outbox where published_at is null and subject like 'tasks.%'"))
            .length === 0,
        { timeoutMs: 10_000, message: 'outbox drained' },
      );
      assert.equal((await stack.sql('select * from jetcel_throttle_waiter')).length, 0);

      // Timings: how long the commit stream stalled around the kill.
      const [stall] = await stack.sql<{ gap_ms: number; at: Date }>(
        `select extract(epoch from (finished_at - lag(finished_at) over (order by finished_at))) * 1000 as gap_ms, finished_at as at
       from jetcel_step where finished_at is not null order by gap_ms desc nulls last limit 1`,
      );
      const acceptedTimes = accepted.map((entry) => entry.at).sort((a, b) => a - b);
      let commandGapMs = 0;
      for (let i = 1; i < acceptedTimes.length; i += 1)
        commandGapMs = Math.max(commandGapMs, (acceptedTimes[i] ?? 0) - (acceptedTimes[i - 1] ?? 0));
      const retried = accepted.filter((entry) => entry.attempts > 1).length;
      const reasons: Record<string, number> = {};
      for (const failure of failures) reasons[failure.reason] = (reasons[failure.reason] ?? 0) + 1;
      const report = {
        victim: victim?.node.name,
        victimLed: victim?.leads,
        killedAfterMs: (killedAt ?? 0) - started,
        sentAfterMs: sentAfter,
        allOkAfterMs: doneAfter,
        failover: gaps,
        longestGapBetweenAcceptedCommandsMs: commandGapMs,
        longestGapBetweenStepCommitsMs: Math.round(Number(stall?.gap_ms ?? 0)),
        commandsRetried: retried,
        failedRequests: failures.length,
        failureReasons: reasons,
        peakBuilding: Math.max(...Object.values(stats.settings).map((entry) => entry.peakBuilding)),
        steps: steps.map((row) => ({
          task: row.task,
          n: Number(row.n),
          maxAttempts: row.max_attempts,
          polls: [row.min_polls, row.max_polls],
          maxTakeovers: row.max_takeovers,
        })),
      };
      console.log(`cluster chaos: ${JSON.stringify(report, null, 1)}`);
    }
  },
);
