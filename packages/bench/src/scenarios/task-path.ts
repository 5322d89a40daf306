import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
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
import { BULL_QUEUES, REDIS } from '../bullmq/connection.ts';
import { BENCH_TASKS } from '../jetcel/domain.ts';
import { RAW_TASK } from '../raw/names.ts';
import { rawPublish } from '../raw/setup.ts';

/** One system under scenario 1: how it publishes one task, and many at once. */
interface TaskSystem {
  name: 'jetcel' | 'bullmq' | 'raw_jetstream';
  worker: BenchChild;
  publishOne(): Promise<unknown>;
  publishMany(n: number): Promise<unknown>;
}

/**
 * Scenario 1: no-op tasks. Throughput: N published as fast as the system takes them, from the
 * first publish call to the last handler run. Latency at a fixed rate: from the publish (add)
 * call to the handler's run, measured in the worker process against the send time in the message.
 */
export async function startTaskSystems(
  env: BenchEnv,
  config: BenchConfig,
): Promise<{ systems: TaskSystem[]; idleRssMiB: number; stop(): Promise<void> }> {
  const window = config.taskPath.publishWindow;
  const jetcelWorker = await env.spawn('jetcel/worker.ts', ['--queue', 'background']);
  const idleRssMiB = jetcelWorker.memory().rssMiB;
  const bullWorker = await env.spawn('bullmq/worker.ts', ['--mode', 'task', '--prefix', env.redisPrefix]);
  const rawWorker = await env.spawn('raw/task-worker.ts', []);
  const queue = new Queue(BULL_QUEUES.task, {
    connection: REDIS,
    prefix: env.redisPrefix,
    defaultJobOptions: { removeOnComplete: true, removeOnFail: true },
  });
  const jetcelOne = () => env.standalone.publish(BENCH_TASKS.noop, { t: nowMs() });
  const rawOne = () => rawPublish(env.raw.js, RAW_TASK.subject, JSON.stringify({ t: nowMs() }), randomUUID());
  const systems: TaskSystem[] = [
    { name: 'jetcel', worker: jetcelWorker, publishOne: jetcelOne, publishMany: (n) => windowed(n, window, jetcelOne) },
    {
      name: 'bullmq',
      worker: bullWorker,
      publishOne: () => queue.add('noop', { t: nowMs() }),
      publishMany: async (n) => {
        for (let sent = 0; sent < n; sent += 1000) {
          const size = Math.min(1000, n - sent);
          await queue.addBulk(Array.from({ length: size }, () => ({ name: 'noop', data: { t: nowMs() } })));
        }
      },
    },
    { name: 'raw_jetstream', worker: rawWorker, publishOne: rawOne, publishMany: (n) => windowed(n, window, rawOne) },
  ];
  return {
    systems,
    idleRssMiB,
    async stop() {
      await queue.obliterate({ force: true }).catch(() => undefined);
      await queue.close();
      await bullWorker.stop();
      await rawWorker.stop();
      // The jetcel worker stays for scenario 4 (resources); its owner stops it.
    },
  };
}

export async function taskPathRound(
  systems: TaskSystem[],
  config: BenchConfig,
  results: Results,
  natsPid: number | undefined,
): Promise<void> {
  const { n, latencyRate, latencyCount } = config.taskPath;
  for (const system of systems)
    await measure(`task_path.${system.name}.throughput`, async () => {
      await system.worker.call('drain');
      const cpu = startCpuMeter({ workers: [system.worker.pid], nats: natsPid });
      const start = nowMs();
      await system.publishMany(n);
      const end = await handledBy([system.worker], n, config.phaseTimeoutMs);
      results.cpu.add(`task_path.${system.name}`, 'task', cpu.stop(n));
      results.add(`task_path.${system.name}.throughput`, 'tasks/s', n / ((end - start) / 1000));
      await system.worker.call('drain');
    });
  for (const system of systems)
    await measure(`task_path.${system.name}.latency`, async () => {
      await system.worker.call('drain');
      await atRate(latencyCount, latencyRate, () => system.publishOne());
      await handledBy([system.worker], latencyCount, config.phaseTimeoutMs);
      const { latencies } = await system.worker.call<Drained>('drain');
      results.add(`task_path.${system.name}.p50_at_${latencyRate}`, 'ms', percentile(latencies, 50));
      results.add(`task_path.${system.name}.p99_at_${latencyRate}`, 'ms', percentile(latencies, 99));
    });
}
