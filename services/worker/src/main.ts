import { composeDomains, loadDomains, parseQueueArg, retentionPruner, runService, startWorker } from '@jetcel/runtime';

// One codebase for every queue: `--queue regular|heavy|background` picks the stream it consumes.
const queue = parseQueueArg(process.argv.slice(2));
const concurrency = Number(process.env.WORKER_CONCURRENCY ?? (queue === 'heavy' ? 4 : 16));
if (!Number.isInteger(concurrency) || concurrency < 1)
  throw new TypeError('WORKER_CONCURRENCY must be a positive integer');
// The configured domains (docs/configuration.md); the reference domain is bundled (pnpm build).
const domains = composeDomains(
  await loadDomains({ bundled: { '@jetcel/reference': () => import('@jetcel/reference') } }),
);

await runService(`worker-${queue}`, { entities: domains.entities }, (context) => {
  // jetcel.prune deletes with this worker's database and RETENTION_* configuration.
  const services = domains.services(process.env, { retention: retentionPruner(context.db, context.config.retention) });
  return startWorker({
    ...context,
    queue,
    concurrency,
    registry: domains.tasks,
    executors: domains.executors,
    services,
  });
});
