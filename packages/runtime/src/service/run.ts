import { connectBus, type Bus } from '@jetcel/bus';
import type { Logger } from '@jetcel/core';
import { Db, type DbOptions } from '@jetcel/db';
import {
  activeTraceIds,
  createServiceMetrics,
  metricsHostFromEnv,
  metricsPortFromEnv,
  startTracing,
  type ServiceMetrics,
} from '@jetcel/telemetry';
import { serviceConfigFromEnv, type ServiceConfig } from './config.ts';
import { executorLogins, type NatsLogin } from './logins.ts';
import { createLogger } from './logger.ts';

export interface ServiceContext {
  bus: Bus;
  db: Db;
  logger: Logger;
  config: ServiceConfig;
  /**
   * With `relayConnection`: the connection for everything but serving requests (NATS_RELAY_USER);
   * the same as `bus` on a server without users.
   */
  relayBus?: Bus;
  /** This service's metrics, served on JETCEL_METRICS_PORT; undefined when it is not set. */
  metrics?: ServiceMetrics;
}

/**
 * The composition root of a long-running service: config from the environment, one NATS
 * connection that reconnects forever (two with `relayConnection`, see executorLogins), one
 * database pool, graceful shutdown on SIGTERM/SIGINT.
 */
export async function runService(
  name: string,
  options: { entities: DbOptions['entities']; relayConnection?: boolean },
  start: (context: ServiceContext) => Promise<{ stop(): Promise<void> }>,
): Promise<void> {
  // With tracing on, every line written inside a span names its trace and span.
  const logger = createLogger({ bindings: { service: name, pid: process.pid }, mixin: () => activeTraceIds() ?? {} });
  const tracing = await startTracing({ serviceName: `jetcel-${name}` });
  if (tracing) logger.info('tracing on');
  const config = serviceConfigFromEnv();
  const logins = options.relayConnection
    ? executorLogins(config)
    : { serving: { user: config.natsUser, pass: config.natsPass }, relay: null };
  const connectAs = (connection: string, login: NatsLogin): Promise<Bus> =>
    connectBus({
      servers: config.natsUrl,
      name: connection,
      ...(login.user ? { user: login.user } : {}),
      ...(login.pass ? { pass: login.pass } : {}),
      onStatus: (event) => logger.info('nats status', { connection, event: event.type }),
    });
  const bus = await connectAs(name, logins.serving);
  const relayBus = logins.relay ? await connectAs(`${name}-relay`, logins.relay) : bus;
  const db = await Db.connect({
    url: config.databaseUrl,
    ...(options.entities ? { entities: options.entities } : {}),
    logger,
  });
  // Signals are watched before start() so a SIGTERM during start-up is not lost.
  let stopRequested: ((signal: string) => void) | undefined;
  const signalled = new Promise<string>((resolve) => (stopRequested = resolve));
  process.once('SIGTERM', () => stopRequested?.('SIGTERM'));
  process.once('SIGINT', () => stopRequested?.('SIGINT'));
  const metricsPort = metricsPortFromEnv();
  const metrics = metricsPort === null ? undefined : await createServiceMetrics(name);
  const metricsServer = metrics && metricsPort !== null ? await metrics.serve(metricsPort, metricsHostFromEnv()) : null;
  if (metricsServer)
    logger.info('metrics served', { host: metricsHostFromEnv(), port: metricsServer.port, path: '/metrics' });
  const running = await start({
    bus,
    db,
    logger,
    config,
    ...(options.relayConnection ? { relayBus } : {}),
    ...(metrics ? { metrics } : {}),
  });
  const signal = await signalled;
  logger.info('shutting down', { signal });
  try {
    await running.stop();
    await metricsServer?.close();
    await tracing?.shutdown().catch((error: unknown) => logger.warn('trace export failed', { error: String(error) }));
    await bus.drain().catch(() => bus.close());
    if (relayBus !== bus) await relayBus.drain().catch(() => relayBus.close());
    await db.close();
  } finally {
    logger.info('stopped');
    process.exit(0);
  }
}
