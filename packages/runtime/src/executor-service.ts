import { COMMAND_WILDCARD, EXECUTOR_QUEUE_GROUP, MAX_COMMAND_BYTES, QUERY_WILDCARD } from '@jetcel/contracts';
import { defineTopology, serveRequests, verifyTopology, type Bus } from '@jetcel/bus';
import type { ExecutorRegistry, Logger } from '@jetcel/core';
import type { Db } from '@jetcel/db';
import type { ServiceMetrics } from '@jetcel/telemetry';
import type { CommandDefinition } from './commands.ts';
import type { ServiceConfig } from './config.ts';
import { CommandDispatcher } from './dispatcher.ts';
import { frameworkQueries } from './framework-queries.ts';
import { deadLetterCommands } from './dead-letter-commands.ts';
import { operatorQueries } from './operator/index.ts';
import type { Schedule } from './schedules.ts';
import type { TaskCatalog } from './queue-step.ts';
import { startRelay } from './relay.ts';

export interface ExecutorServiceOptions {
  bus: Bus;
  db: Db;
  catalog: TaskCatalog;
  executors?: Pick<ExecutorRegistry, 'get'>;
  commands: Array<CommandDefinition<never>>;
  /** The deployment's beat schedules, described by query.schedule.list. @defaultValue [] */
  schedules?: readonly Schedule[];
  logger: Logger;
  config: ServiceConfig;
  /** Request counts, and the deployment-wide gauges read from the database. */
  metrics?: ServiceMetrics;
}

/** The command API: cmd.> and query.> in the queue group "executor", each in its own transaction. */
export async function startExecutorService(options: ExecutorServiceOptions): Promise<{ stop(): Promise<void> }> {
  const { bus, db, logger, config } = options;
  await verifyTopology(bus, defineTopology(config.topology));
  options.metrics?.addDatabaseGauges({
    sample: () => db.transaction((tx) => tx.metrics.snapshot()),
    onError: (error) => logger.warn('metrics snapshot failed', { error: String(error) }),
  });
  const relay = startRelay({ bus, db, logger, sweepMs: config.sweepMs, claimGraceMs: config.claimGraceMs });
  const dispatcher = new CommandDispatcher({
    db,
    catalog: options.catalog,
    ...(options.executors ? { executors: options.executors } : {}),
    logger,
    backlogLimit: config.backlogLimit,
    auth: config.auth,
    ...(options.metrics ? { metrics: options.metrics.runtime } : {}),
    commands: [
      ...options.commands,
      ...frameworkQueries(config.retention),
      ...deadLetterCommands(),
      ...operatorQueries({
        bus,
        catalog: options.catalog,
        schedules: options.schedules ?? [],
        defaultThrottleLimit: config.throttle.defaultLimit,
      }),
    ],
  });
  const server = serveRequests(bus, {
    subjects: [COMMAND_WILDCARD, QUERY_WILDCARD],
    queue: EXECUTOR_QUEUE_GROUP,
    maxBytes: MAX_COMMAND_BYTES,
    handler: (request) => dispatcher.handle(request),
    onTooLarge: ({ size }) => dispatcher.tooLarge(size),
    onError: (error) => logger.error('request handling failed', { error }),
  });
  await server.ready();
  if (config.auth.anonymous === 'allow')
    logger.warn('JETCEL_AUTH_ANONYMOUS=allow: requests without a token are served, as any actor they name', {
      hint: 'development only; set JETCEL_AUTH_ANONYMOUS=deny (the default) anywhere else',
    });
  logger.info('executor ready', {
    subjects: dispatcher.subjects(),
    // Never the secret itself: whether tokens can be verified, and what a caller without one gets.
    auth: { tokens: config.auth.secret === null ? 'refused' : 'verified', anonymous: config.auth.anonymous },
  });
  return {
    async stop() {
      await server.stop();
      await relay.stop();
    },
  };
}
