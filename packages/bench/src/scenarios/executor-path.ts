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

interface ExecutorSystem {
  name: 'jetcel' | 'bullmq' | 'raw_chain' | 'dbos';
  /** Its worker process, whose CPU is measured with the phase. */
  workerPid: number;
  submit(): Promise<unknown>;
  /** Waits until `n` executions submitted since `sinceMs` finished; returns when the last did. */
  finished(n: number, sinceMs: number): Promise<number>;
  latencies(sinceMs: number): Promise<number[]>;
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
 */
export async function startExecutorSystems(
  env: BenchEnv,
  config: BenchConfig,
): Promise<{ systems: ExecutorSystem[]; stop(): Promise<void> }> {
  const timeout = config.phaseTimeoutMs;
  const jetcelWorker = await env.spawn('jetcel/worker.ts', ['--queue', 'regular']);
  const bullWorker = await env.spawn('bullmq/worker.ts', ['--mode', 'flow', '--prefix', env.redisPrefix]);
  const rawWorker = await env.spawn('raw/chain-worker.ts', []);
  const dbos = await env.dbos();
  const dbosWorker = await env.spawn('dbos/worker.ts', ['--mode', 'executor'], { DBOS_SYSTEM_DATABASE_URL: dbos.url });
  const dbosTag = dbosTags('exec');
  const flows = new FlowProducer({ connection: REDIS, prefix: env.redisPrefix });
  const byWorker = (worker: BenchChild) => ({
    finished: (n: number) => handledBy([worker], n, timeout),
    latencies: async () => (await worker.call<Drained>('drain')).latencies,
  });
  const systems: ExecutorSystem[] = [
    {
      name: 'jetcel',
      workerPid: jetcelWorker.pid,
      submit: () => submitExecution(env, fiveStepExecutor, {}),
      finished: (n, sinceMs) => executionsFinished(env, fiveStepExecutor.name, n, sinceMs, timeout),
      latencies: (sinceMs) => latenciesSince(env, fiveStepExecutor.name, sinceMs),
    },
    {
      name: 'bullmq',
      workerPid: bullWorker.pid,
      submit: () => flows.add(flowChain(BULL_QUEUES.flow)),
      ...byWorker(bullWorker),
    },
    {
      name: 'raw_chain',
      workerPid: rawWorker.pid,
      submit: () => submitRawExecution(env.raw.pool, env.raw.js),
      finished: (n) => handledBy([rawWorker], n, timeout),
      latencies: async (sinceMs) => {
        await rawWorker.call('drain');
        const { rows } = await env.raw.pool.query<{ ms: number }>(
          `select extract(epoch from finished_at - created_at) * 1000 as ms from raw_exec
           where finished_at is not null and created_at >= to_timestamp($1 / 1000.0)`,
          [sinceMs],
        );
        return rows.map((row) => Number(row.ms));
      },
    },
    {
      name: 'dbos',
      workerPid: dbosWorker.pid,
      submit: () => dbosWorker.call('start', { id: dbosTag.nextId() }),
      finished: (n) => dbos.finished(dbosTag.current(), n, timeout),
      // Every latency read closes the current measurement: the next one's workflows get a new tag.
      latencies: async () => {
        const latencies = await dbos.latencies(dbosTag.current());
        dbosTag.rotate();
        return latencies;
      },
    },
  ];
  return {
    systems,
    async stop() {
      await flows.close();
      await Promise.all([jetcelWorker.stop(), bullWorker.stop(), rawWorker.stop(), dbosWorker.stop()]);
    },
  };
}

export async function executorPathRound(
  systems: ExecutorSystem[],
  config: BenchConfig,
  results: Results,
  natsPid: number | undefined,
): Promise<void> {
  const { n, latencyRate, latencyCount, submitWindow } = config.executorPath;
  for (const system of systems)
    await measure(`executor_path.${system.name}.throughput`, async () => {
      await system.latencies(0);
      const cpu = startCpuMeter({ workers: [system.workerPid], nats: natsPid });
      const start = nowMs();
      await windowed(n, submitWindow, () => system.submit());
      const end = await system.finished(n, start);
      results.cpu.add(`executor_path.${system.name}`, 'execution', cpu.stop(n));
      results.add(`executor_path.${system.name}.throughput`, 'executions/s', n / ((end - start) / 1000));
      await system.latencies(start);
    });
  for (const system of systems)
    await measure(`executor_path.${system.name}.latency`, async () => {
      await system.latencies(0);
      const start = nowMs();
      await atRate(latencyCount, latencyRate, () => system.submit());
      await system.finished(latencyCount, start);
      const latencies = await system.latencies(start);
      results.add(`executor_path.${system.name}.p50_at_${latencyRate}`, 'ms', percentile(latencies, 50));
      results.add(`executor_path.${system.name}.p99_at_${latencyRate}`, 'ms', percentile(latencies, 99));
    });
}
