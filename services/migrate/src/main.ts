import { FRAMEWORK_MIGRATIONS, ensureDatabase, migrateDown, migrateUp } from '@jetcel/db';
import { referenceMigrations } from '@jetcel/reference';
import { createLogger, serviceConfigFromEnv } from '@jetcel/runtime';

// One-shot job: creates the database if needed and applies jetcel's and the domain's migrations.
const logger = createLogger({ bindings: { service: 'migrate' } });
const { databaseUrl } = serviceConfigFromEnv();
const sets = [FRAMEWORK_MIGRATIONS, referenceMigrations];
const command = process.argv[2] ?? 'up';
if (command === 'up') {
  await ensureDatabase(databaseUrl);
  logger.info('migrations applied', { applied: await migrateUp(databaseUrl, sets) });
} else if (command === 'down') {
  logger.info('migrations reverted', { reverted: await migrateDown(databaseUrl, sets) });
} else {
  logger.error('usage: migrate [up|down]', { command });
  process.exitCode = 2;
}
