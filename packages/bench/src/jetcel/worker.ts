// A jetcel worker process for the bench domain: the runtime's own worker service, driven over IPC.
import { createWriteStream } from 'node:fs';
import { connectBus } from '@jetcel/bus';
import { createLogger, parseQueueArg, serviceConfigFromEnv, startWorker } from '@jetcel/runtime';
import { Db } from '@jetcel/db';
import { serveDriver } from '../ipc.ts';
import { Recorder } from '../recorder.ts';
import { createBenchDomain } from './domain.ts';

const queue = parseQueueArg(process.argv.slice(2));
const config = serviceConfigFromEnv();
// `BENCH_LOG_FILE`: the worker's log lines go to that file (the probe's timelines), not to stdout.
const logFile = process.env.BENCH_LOG_FILE ? createWriteStream(process.env.BENCH_LOG_FILE, { flags: 'a' }) : undefined;
const logger = createLogger({
  bindings: { service: `bench-worker-${queue}`, pid: process.pid },
  ...(logFile ? { write: (line: string) => void logFile.write(`${line}\n`) } : {}),
});
const domain = createBenchDomain();
const recorder = new Recorder();
const bus = await connectBus({ servers: config.natsUrl, name: `bench-worker-${queue}` });
const db = await Db.connect({ url: config.databaseUrl, entities: domain.entities, logger });
const worker = await startWorker({
  bus,
  db,
  queue,
  concurrency: Number(process.env.WORKER_CONCURRENCY ?? 50),
  registry: domain.tasks,
  executors: domain.executorRegistry,
  services: { recorder },
  logger,
  config,
});
serveDriver(recorder, {}, async () => {
  await worker.stop(2000);
  await bus.drain().catch(() => bus.close());
  await db.close();
});
