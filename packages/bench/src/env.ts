import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { applyTopology, connectBus, defineTopology, type Bus } from '@jetcel/bus';
import { Db, FRAMEWORK_MIGRATIONS, migrateUp } from '@jetcel/db';
import { createStandalonePublisher, serviceConfigFromEnv, createLogger } from '@jetcel/runtime';
import type { StandalonePublisher } from '@jetcel/runtime';
import { startRelay, Progress, type OutboxRelay } from '@jetcel/runtime/internal';
import { createTestDatabase, startNats, type NatsServerHandle, type TestDatabase } from '@jetcel/testing';
import { REDIS } from './bullmq/connection.ts';
import { createBenchDomain } from './jetcel/domain.ts';
import { forkChild, workerNodeFlags, type BenchChild } from './ipc.ts';
import { setUpRaw, type RawClients } from './raw/setup.ts';
import { createDbosDatabase, type DbosDatabase } from './dbos/database.ts';

/** Everything a bench run starts, and how to take it down again. */
export interface BenchEnv {
  nats: NatsServerHandle;
  database: TestDatabase;
  /** The driver's jetcel side: the bus, the database, its relay, progress and the standalone publisher. */
  bus: Bus;
  db: Db;
  relay: OutboxRelay;
  progress: Progress;
  standalone: StandalonePublisher;
  domain: ReturnType<typeof createBenchDomain>;
  /** Raw clients for the baselines. */
  raw: RawClients;
  redisPrefix: string;
  /** DBOS's system database, created on first use and dropped by `close`. */
  dbos(): Promise<DbosDatabase>;
  /** Environment of every worker process. */
  workerEnv: Record<string, string>;
  cpuProfDir: string | undefined;
  spawn(entry: string, args: string[], env?: Record<string, string>): Promise<BenchChild>;
  close(): Promise<void>;
}

export async function startBenchEnv(options: { cpuProfDir?: string }): Promise<BenchEnv> {
  const nats = await startNats();
  const database = await createTestDatabase({ prefix: 'bench' });
  const domain = createBenchDomain();
  await migrateUp(database.url, [FRAMEWORK_MIGRATIONS, domain.migrations]);
  const workerEnv: Record<string, string> = {
    NATS_URL: nats.url,
    DATABASE_URL: database.url,
    LOG_LEVEL: 'warn',
    THROTTLE_DEFAULT_LIMIT: '5',
    WORKER_CONCURRENCY: '50',
  };
  const config = serviceConfigFromEnv(workerEnv);
  const bus = await connectBus({ servers: [nats.url], name: 'bench-driver' });
  await applyTopology(bus, defineTopology(config.topology));
  const logger = createLogger({ level: 'warn', bindings: { service: 'bench-driver' } });
  const db = await Db.connect({ url: database.url, entities: domain.entities, logger, poolMax: 16 });
  const relay = startRelay({ bus, db, logger, sweepMs: config.sweepMs, claimGraceMs: config.claimGraceMs });
  const progress = new Progress({ catalog: domain.tasks, executors: domain.executorRegistry, logger });
  const raw = await setUpRaw(nats.url, database.url);
  const redisPrefix = `jetcel-bench-${process.pid}-${randomBytes(4).toString('hex')}`;
  const children = new Set<BenchChild>();
  let dbos: Promise<DbosDatabase> | undefined;
  return {
    nats,
    database,
    bus,
    db,
    relay,
    progress,
    standalone: createStandalonePublisher(bus, { catalog: domain.tasks }),
    domain,
    raw,
    redisPrefix,
    dbos: () => (dbos ??= createDbosDatabase()),
    workerEnv,
    cpuProfDir: options.cpuProfDir,
    async spawn(entry, args, env = {}) {
      const child = await forkChild(entry, {
        args,
        env: { ...workerEnv, ...env },
        ...(options.cpuProfDir && entry.startsWith('jetcel/') ? { cpuProfDir: options.cpuProfDir } : {}),
        ...(entry.startsWith('jetcel/') ? { nodeOptions: workerNodeFlags() } : {}),
      });
      children.add(child);
      const stop = child.stop.bind(child);
      return { ...child, pid: child.pid, stop: async () => (children.delete(child), stop()) };
    },
    async close() {
      await Promise.allSettled([...children].map((child) => child.stop()));
      await relay.stop();
      await bus.drain().catch(() => bus.close());
      await raw.close();
      await db.close();
      await flushRedisPrefix(redisPrefix);
      if (dbos) await (await dbos).drop();
      await database.drop();
      await nats[Symbol.asyncDispose]();
    },
  };
}

/** Deletes every Redis key this run created (BullMQ keys are `<prefix>:<queue>:…`). */
async function flushRedisPrefix(prefix: string): Promise<void> {
  const redis = new Redis({ ...REDIS, lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
