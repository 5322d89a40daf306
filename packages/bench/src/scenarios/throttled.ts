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
import { startCpuMeter } from '../cpu.ts';
import { BULL_QUEUES, REDIS } from '../bullmq/connection.ts';
import { throttledExecutor } from '../jetcel/domain.ts';
import { executionsFinished, submitBulk } from '../jetcel/submit.ts';
import { dbosTags } from '../dbos/tags.ts';

/** One system's workers for one phase, and how to drive them. */
interface ThrottledPhase {
  workers: BenchChild[];
  submitAll(n: number): Promise<unknown>;
  /** When the last of `n` executions (jobs) submitted since `sinceMs` finished. */
  finished(n: number, sinceMs: number): Promise<number>;
}

interface ThrottledSystem {
  name: 'jetcel' | 'bullmq' | 'dbos';
  /** Starts this system's worker processes; they run during its phase only. */
  start(): Promise<ThrottledPhase>;
}

/**
 * Scenario 3: one-step executions of `taskMs` in one scope with limit `limit`, on several worker
 * processes. Throughput is N over the time from the first request to the last final commit (jetcel:
 * the execution's end, which releases its lease; BullMQ: the last job's completion; DBOS: the last
 * workflow's completed_at), as a fraction of the ideal limit / task time. Peak concurrency: the most task runs that overlapped, from the
 * runs' own start and end times in every worker.
 *
 * A system's workers are started for its phase of each round, warmed up with `warmUp` unmeasured
 * executions and stopped after it, so no other system's workers run meanwhile: idle DBOS workers
 * poll their queue every 10 ms, which cost the others' phases a tenth of their efficiency.
 */
export async function throttledSystems(
  env: BenchEnv,
  config: BenchConfig,
): Promise<{
  systems: ThrottledSystem[];
  stop(): Promise<void>;
}> {
  const { workers, limit, taskMs } = config.throttled;
  const timeout = config.phaseTimeoutMs;
  const dbos = await env.dbos();
  const dbosTag = dbosTags('throttled');
  const queue = new Queue(BULL_QUEUES.throttle, {
    connection: REDIS,
    prefix: env.redisPrefix,
    defaultJobOptions: { removeOnComplete: true, removeOnFail: true },
  });
  await queue.setGlobalConcurrency(limit);
  // One after the other: the first DBOS worker's launch creates DBOS's tables.
  const spawnEach = async (spawn: () => Promise<BenchChild>): Promise<BenchChild[]> => {
    const started: BenchChild[] = [];
    for (let i = 0; i < workers; i++) started.push(await spawn());
    return started;
  };
  const systems: ThrottledSystem[] = [
    {
      name: 'jetcel',
      async start() {
        const started = await spawnEach(() =>
          env.spawn('jetcel/worker.ts', ['--queue', 'regular'], { THROTTLE_DEFAULT_LIMIT: String(limit) }),
        );
        return {
          workers: started,
          // Bulk commands of 50, as BullMQ's side submits with addBulk.
          submitAll: (n) => submitBulk(env, throttledExecutor, { ms: taskMs }, n),
          finished: (n, sinceMs) => executionsFinished(env, throttledExecutor.name, n, sinceMs, timeout),
        };
      },
    },
    {
      name: 'bullmq',
      async start() {
        const started = await spawnEach(() =>
          env.spawn('bullmq/worker.ts', ['--mode', 'throttle', '--prefix', env.redisPrefix], {
            WORKER_CONCURRENCY: String(limit),
          }),
        );
        return {
          workers: started,
          submitAll: (n) => queue.addBulk(Array.from({ length: n }, () => ({ name: 'sleep', data: { ms: taskMs } }))),
          finished: (n) => handledBy(started, n, timeout),
        };
      },
    },
    {
      name: 'dbos',
      async start() {
        const started = await spawnEach(() =>
          env.spawn('dbos/worker.ts', ['--mode', 'throttle'], {
            DBOS_SYSTEM_DATABASE_URL: dbos.url,
            THROTTLE_LIMIT: String(limit),
          }),
        );
        return {
          workers: started,
          submitAll: (n) => {
            dbosTag.rotate();
            // Enqueued through both workers in turn; either may dequeue any of them.
            return windowed(
              n,
              config.executorPath.submitWindow,
              (i) =>
                started[i % started.length]?.call('enqueue', { id: dbosTag.nextId(), ms: taskMs }) ?? Promise.resolve(),
            );
          },
          finished: (n) => dbos.finished(dbosTag.current(), n, timeout),
        };
      },
    },
  ];
  return {
    systems,
    async stop() {
      await queue.obliterate({ force: true }).catch(() => undefined);
      await queue.close();
    },
  };
}

export async function throttledRound(
  systems: ThrottledSystem[],
  config: BenchConfig,
  results: Results,
  natsPid: number | undefined,
): Promise<void> {
  const { n, warmUp, limit, taskMs } = config.throttled;
  const ideal = limit / (taskMs / 1000);
  for (const system of systems)
    await measure(`throttled.${system.name}`, async () => {
      const phase = await system.start();
      try {
        const warmStart = nowMs();
        await phase.submitAll(warmUp);
        await phase.finished(warmUp, warmStart);
        await Promise.all(phase.workers.map((worker) => worker.call('drain')));
        const cpu = startCpuMeter({ workers: phase.workers.map((worker) => worker.pid), nats: natsPid });
        const start = nowMs();
        await phase.submitAll(n);
        const end = await phase.finished(n, start);
        results.cpu.add(`throttled.${system.name}`, 'execution', cpu.stop(n));
        const drained = await Promise.all(phase.workers.map((worker) => worker.call<Drained>('drain')));
        const throughput = n / ((end - start) / 1000);
        results.add(`throttled.${system.name}.efficiency`, 'of ideal', throughput / ideal);
        results.add(
          `throttled.${system.name}.peak_concurrency`,
          'tasks',
          peakConcurrency(drained.flatMap((d) => d.intervals)),
        );
      } finally {
        await Promise.all(phase.workers.map((worker) => worker.stop()));
      }
    });
}
