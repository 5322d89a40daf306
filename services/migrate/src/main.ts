import { ensureDatabase, migrateDown, migrateUp } from '@jetcel/db';
import { composeDomains, createLogger, loadDomains, serviceConfigFromEnv } from '@jetcel/runtime';

// One-shot job: creates the database if needed and applies jetcel's migrations, then each configured
// domain's (docs/configuration.md), each set tracked under its own name. The reference domain is bundled.
const logger = createLogger({ bindings: { service: 'migrate' } });
const { databaseUrl } = serviceConfigFromEnv();
const domains = composeDomains(
  await loadDomains({ bundled: { '@jetcel/reference': () => import('@jetcel/reference') } }),
);
const sets = [...domains.migrations];
const command = process.argv[2] ?? 'up';
if (command === 'up') {
  await ensureDatabase(databaseUrl);
  logger.info('migrations applied', { domains: domains.names, applied: await migrateUp(databaseUrl, sets) });
} else if (command === 'down') {
  logger.info('migrations reverted', { domains: domains.names, reverted: await migrateDown(databaseUrl, sets) });
} else {
  logger.error('usage: migrate [up|down]', { command });
  process.exitCode = 2;
}
