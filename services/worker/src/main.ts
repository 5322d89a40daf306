import { backgroundConfigFromEnv, CloudClient, createReferenceDomain, referenceConfigFromEnv } from '@jetcel/reference';
import { parseQueueArg, retentionPruner, runService, startWorker } from '@jetcel/runtime';

// One codebase for every queue: `--queue regular|heavy|background` picks the stream it consumes.
const queue = parseQueueArg(process.argv.slice(2));
const concurrency = Number(process.env.WORKER_CONCURRENCY ?? (queue === 'heavy' ? 4 : 16));
if (!Number.isInteger(concurrency) || concurrency < 1)
  throw new TypeError('WORKER_CONCURRENCY must be a positive integer');
const domain = createReferenceDomain(referenceConfigFromEnv(), backgroundConfigFromEnv());
const cloud = new CloudClient(process.env.CLOUD_URL ?? 'http://127.0.0.1:8774');

await runService(`worker-${queue}`, { entities: domain.entities }, (context) => {
  // jetcel.prune deletes with this worker's database and RETENTION_* configuration.
  const services = { cloud, retention: retentionPruner(context.db, context.config.retention) };
  return startWorker({
    ...context,
    queue,
    concurrency,
    registry: domain.tasks,
    executors: domain.executorRegistry,
    services,
  });
});
