import { Queue } from 'bullmq';
import { nowMs, windowed } from '../clock.ts';
import type { BenchConfig } from '../config.ts';
import type { BenchEnv } from '../env.ts';
import type { BenchChild } from '../ipc.ts';
import type { Drained } from '../recorder.ts';
import type { Results } from '../results.ts';
import { peakConcurrency } from '../stats.ts';
import { handledBy } from '../wait.ts';
import { measure } from '../measure.ts';
import { BULL_QUEUES, REDIS } from '../bullmq/connection.ts';
import { throttledExecutor } from '../jetcel/domain.ts';
import { executionsFinished, submitBulk } from '../jetcel/submit.ts';
import { dbosTags } from '../dbos/tags.ts';

interface ThrottledSystem {
  name: 'jetcel' | 'bullmq' | 'dbos';
  workers: BenchChild[];
  submitAll(n: number): Promise<unknown>;
  /** When the last of `n` executions (jobs) submitted since `sinceMs` finished. */
  finished(n: number, sinceMs: number): Promise<number>;
}

/**
 * Scenario 3: one-step executions of `taskMs` in one scope with limit `limit`, on several worker
 * processes. Throughput is N over the time from the first request to the last final commit (jetcel:
 * the execution's end, which releases its lease; BullMQ: the last job's completion; DBOS: the last
 * workflow's completed_at), as a fraction of the ideal limit / task time. Peak concurrency: the most task runs that overlapped, from the
 * runs' own start and end times in every worker.
 */
export async function startThrottledSystems(
  env: BenchEnv,
  config: BenchConfig,
): Promise<{ systems: ThrottledSystem[]; stop(): Promise<void> }> {
  const { workers, limit, taskMs } = config.throttled;
  const timeout = config.phaseTimeoutMs;
  const jetcelWorkers: BenchChild[] = [];
  const bullWorkers: BenchChild[] = [];
  const dbosWorkers: BenchChild[] = [];
  const dbos = await env.dbos();
  for (let i = 0; i < workers; i++) {
    jetcelWorkers.push(
      await env.spawn('jetcel/worker.ts', ['--queue', 'regular'], { THROTTLE_DEFAULT_LIMIT: String(limit) }),
    );
    bullWorkers.push(
      await env.spawn('bullmq/worker.ts', ['--mode', 'throttle', '--prefix', env.redisPrefix], {
        WORKER_CONCURRENCY: String(limit),
      }),
    );
    // One after the other: the first one's launch creates DBOS's tables.
    dbosWorkers.push(
      await env.spawn('dbos/worker.ts', ['--mode', 'throttle'], {
        DBOS_SYSTEM_DATABASE_URL: dbos.url,
        THROTTLE_LIMIT: String(limit),
      }),
    );
  }
  const dbosTag = dbosTags('throttled');
  const queue = new Queue(BULL_QUEUES.throttle, {
    connection: REDIS,
    prefix: env.redisPrefix,
    defaultJobOptions: { removeOnComplete: true, removeOnFail: true },
  });
  await queue.setGlobalConcurrency(limit);
  const systems: ThrottledSystem[] = [
    {
      name: 'jetcel',
      workers: jetcelWorkers,
      // Bulk commands of 50, as BullMQ's side submits with addBulk.
      submitAll: (n) => submitBulk(env, throttledExecutor, { ms: taskMs }, n),
      finished: (n, sinceMs) => executionsFinished(env, throttledExecutor.name, n, sinceMs, timeout),
    },
    {
      name: 'bullmq',
      workers: bullWorkers,
      submitAll: (n) => queue.addBulk(Array.from({ length: n }, () => ({ name: 'sleep', data: { ms: taskMs } }))),
      finished: (n) => handledBy(bullWorkers, n, timeout),
    },
    {
      name: 'dbos',
      workers: dbosWorkers,
      submitAll: (n) => {
        dbosTag.rotate();
        // Enqueued through both workers in turn; either may dequeue any of them.
        return windowed(
          n,
          config.executorPath.submitWindow,
          (i) =>
            dbosWorkers[i % dbosWorkers.length]?.call('enqueue', { id: dbosTag.nextId(), ms: taskMs }) ??
            Promise.resolve(),
        );
      },
      finished: (n) => dbos.finished(dbosTag.current(), n, timeout),
    },
  ];
  return {
    systems,
    async stop() {
      await queue.obliterate({ force: true }).catch(() => undefined);
      await queue.close();
      await Promise.all([...jetcelWorkers, ...bullWorkers, ...dbosWorkers].map((worker) => worker.stop()));
    },
  };
}

export async function throttledRound(systems: ThrottledSystem[], config: BenchConfig, results: Results): Promise<void> {
  const { n, limit, taskMs } = config.throttled;
  const ideal = limit / (taskMs / 1000);
  for (const system of systems)
    await measure(`throttled.${system.name}`, async () => {
      await Promise.all(system.workers.map((worker) => worker.call('drain')));
      const start = nowMs();
      await system.submitAll(n);
      const end = await system.finished(n, start);
      const drained = await Promise.all(system.workers.map((worker) => worker.call<Drained>('drain')));
      const throughput = n / ((end - start) / 1000);
      results.add(`throttled.${system.name}.efficiency`, 'of ideal', throughput / ideal);
      results.add(
        `throttled.${system.name}.peak_concurrency`,
        'tasks',
        peakConcurrency(drained.flatMap((d) => d.intervals)),
      );
    });
}
