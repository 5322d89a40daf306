import { readDashboardConfig } from './config.ts';
import { BusJetcelApi } from './jetcel.ts';
import { jsonLogger } from './logger.ts';
import { startDashboard, type RunningDashboard } from './server.ts';

const logger = jsonLogger(process.env.LOG_LEVEL, { service: 'dashboard' });
let dashboard: RunningDashboard | undefined;
let api: BusJetcelApi | undefined;
let stopping = false;

async function stop(): Promise<void> {
  await dashboard?.close();
  await api?.close();
}

// Watched before start-up, so an early signal is not lost.
function shutdown(signal: NodeJS.Signals): void {
  if (stopping) process.exit(1);
  stopping = true;
  logger.info('dashboard stopping', { signal });
  stop().then(
    () => process.exit(0),
    (error: unknown) => {
      logger.error('dashboard stop failed', { error });
      process.exit(1);
    },
  );
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);

try {
  const config = readDashboardConfig(process.env);
  api = await BusJetcelApi.connect({
    ...config.nats,
    keys: config.authKeys,
    onStatus: (event) => logger.warn('nats status', { type: event.type }),
  });
  dashboard = await startDashboard({ config, api, logger });
  logger.info('dashboard ready', { url: dashboard.url, users: config.users.size });
} catch (error) {
  logger.error('dashboard failed to start', { error: error instanceof Error ? error.message : String(error) });
  await stop().catch(() => {});
  process.exit(1);
}
