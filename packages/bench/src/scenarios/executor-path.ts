import { FlowProducer, type FlowJob } from 'bullmq';
import { atRate, nowMs, windowed } from '../clock.ts';
import type { BenchConfig } from '../config.ts';
import type { BenchEnv } from '../env.ts';
import type { BenchChild } from '../ipc.ts';
import type { Drained } from '../recorder.ts';
import type { Results } from '../results.ts';
import { percentile } from '../stats.ts';
import { handledBy } from '../wait.ts';
import { measure } from '../measure.ts';
import { startCpuMeter } from '../cpu.ts';
import { BULL_QUEUES, FLOW_LAST, REDIS } from '../bullmq/connection.ts';
import { fiveStepExecutor } from '../jetcel/domain.ts';
import { executionsFinished, latenciesSince, submitExecution } from '../jetcel/submit.ts';
import { submitRawExecution } from '../raw/chain.ts';
import { dbosTags } from '../dbos/tags.ts';

/** One system's worker process for one phase, and how to drive it. */
interface ExecutorPhase {
  /** Its worker process, whose CPU is measured with the phase. */
  worker: BenchChild;
  submit(): Promise<unknown>;
  /** Waits until `n` executions submitted since `sinceMs` finished; returns when the last did. */
  finished(n: number, sinceMs: number): Promise<number>;
  latencies(sinceMs: number): Promise<number[]>;
}

interface ExecutorSystem {
  name: 'jetcel' | 'bullmq' | 'raw_chain' | 'dbos';
  /** Starts its worker process; it runs during this system's phases only. */
  start(): Promise<ExecutorPhase>;
}

/** A BullMQ chain of five jobs: the deepest child runs first, each parent after its child. */
const flowChain = (queueName: string): FlowJob => {
  let node: FlowJob = { name: 's1', queueName, data: {} };
  for (const name of ['s2', 's3', 's4', FLOW_LAST]) node = { name, queueName, data: {}, children: [node] };
  return node;
};

/**
 * Scenario 2: five-step executions. Latency: from the request (the scheduling transaction, or
 * FlowProducer.add; DBOS: the insert of the workflow's status row) to the commit of the final
 * state (the last transaction's now(); BullMQ: the last job's finishedOn; DBOS: the outcome's
 * completed_at). Throughput: N executions from the first request to the last final commit.
 * A system's worker is started for its phases of each round (warm-up, throughput, latency) and
 * stopped after them, so no other system's worker runs meanwhile.
 */
export async function executorSystems(
  env: BenchEnv,
  config: BenchConfig,
): Promise<{ systems: ExecutorSystem[]; stop(): Promise<void> }> {
  const timeout = config.phaseTimeoutMs;
  const dbos = await env.dbos();
  const dbosTag = dbosTags('exec');
  const flows = new FlowProducer({ connection: REDIS, prefix: env.redisPrefix });
  const byWorker = (worker: BenchChild) => ({
    finished: (n: number) => handledBy([worker], n, timeout),
    latencies: async () => (await worker.call<Drained>('drain')).latencies,
  });
  const systems: ExecutorSystem[] = [
    {
      name: 'jetcel',
      async start() {
        const worker = await env.spawn('jetcel/worker.ts', ['--queue', 'regular']);
        return {
          worker,
          submit: () => submitExecution(env, fiveStepExecutor, {}),
          finished: (n, sinceMs) => executionsFinished(env, fiveStepExecutor.name, n, sinceMs, timeout),
          latencies: (sinceMs) => latenciesSince(env, fiveStepExecutor.name, sinceMs),
        };
      },
    },
    {
      name: 'bullmq',
      async start() {
        const worker = await env.spawn('bullmq/worker.ts', ['--mode', 'flow', '--prefix', env.redisPrefix]);
        return { worker, submit: () => flows.add(flowChain(BULL_QUEUES.flow)), ...byWorker(worker) };
      },
    },
    {
      name: 'raw_chain',
      async start() {
        const worker = await env.spawn('raw/chain-worker.ts', []);
        return {
          worker,
          submit: () => submitRawExecution(env.raw.pool, env.raw.js),
          finished: (n) => handledBy([worker], n, timeout),
          latencies: async (sinceMs) => {
            await worker.call('drain');
            const { rows } = await env.raw.pool.query<{ ms: number }>(
              `select extract(epoch from finished_at - created_at) * 1000 as ms from raw_exec
               where finished_at is not null and created_at >= to_timestamp($1 / 1000.0)`,
              [sinceMs],
            );
            return rows.map((row) => Number(row.ms));
          },
        };
      },
    },
    {
      name: 'dbos',
      async start() {
        const worker = await env.spawn('dbos/worker.ts', ['--mode', 'executor'], {
          DBOS_SYSTEM_DATABASE_URL: dbos.url,
        });
        return {
          worker,
          submit: () => worker.call('start', { id: dbosTag.nextId() }),
          finished: (n) => dbos.finished(dbosTag.current(), n, timeout),
          // Every latency read closes the current measurement: the next one's workflows get a new tag.
          latencies: async () => {
            const latencies = await dbos.latencies(dbosTag.current());
            dbosTag.rotate();
            return latencies;
          },
        };
      },
    },
  ];
  return {
    systems,
    async stop() {
      await flows.close();
    },
  };
}

export async function executorPathRound(
  systems: ExecutorSystem[],
  config: BenchConfig,
  results: Results,
  natsPid: number | undefined,
): Promise<void> {
  const { n, warmUp, latencyRate, latencyCount, submitWindow } = config.executorPath;
  for (const system of systems)
    // A worker that fails to start costs its system this round's figures, not the whole run.
    await measure(`executor_path.${system.name}`, async () => {
      const phase = await system.start();
      try {
        await measure(`executor_path.${system.name}.warm_up`, async () => {
          const start = nowMs();
          await windowed(warmUp, submitWindow, () => phase.submit());
          await phase.finished(warmUp, start);
        });
        await measure(`executor_path.${system.name}.throughput`, async () => {
          await phase.latencies(0);
          const cpu = startCpuMeter({ workers: [phase.worker.pid], nats: natsPid });
          const start = nowMs();
          await windowed(n, submitWindow, () => phase.submit());
          const end = await phase.finished(n, start);
          results.cpu.add(`executor_path.${system.name}`, 'execution', cpu.stop(n));
          results.add(`executor_path.${system.name}.throughput`, 'executions/s', n / ((end - start) / 1000));
          await phase.latencies(start);
        });
        await measure(`executor_path.${system.name}.latency`, async () => {
          await phase.latencies(0);
          const start = nowMs();
          await atRate(latencyCount, latencyRate, () => phase.submit());
          await phase.finished(latencyCount, start);
          const latencies = await phase.latencies(start);
          results.add(`executor_path.${system.name}.p50_at_${latencyRate}`, 'ms', percentile(latencies, 50));
          results.add(`executor_path.${system.name}.p99_at_${latencyRate}`, 'ms', percentile(latencies, 99));
        });
      } finally {
        await phase.worker.stop();
      }
    });
}
