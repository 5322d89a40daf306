import { COMMAND_WILDCARD, EXECUTOR_QUEUE_GROUP, MAX_COMMAND_BYTES, QUERY_WILDCARD } from '@jetcel/contracts';
import { boundedSubject, defineTopology, serveRequests, verifyTopology, type Bus } from '@jetcel/bus';
import { checkPlannedTasks, declaredThrottleLimits, type ExecutorRegistry, type Logger } from '@jetcel/core';
import type { Db } from '@jetcel/db';
import type { ServiceMetrics } from '@jetcel/telemetry';
import type { CommandDefinition } from '../command/commands.ts';
import type { ServiceConfig } from './config.ts';
import { CommandDispatcher } from '../command/dispatcher.ts';
import { frameworkQueries } from '../command/framework-queries.ts';
import { deadLetterCommands } from '../command/dead-letter-commands.ts';
import { operatorQueries } from '../operator/index.ts';
import type { Schedule } from '../beat/schedules.ts';
import type { TaskCatalog } from '../execution/queue-step.ts';
import { startRelay } from '../outbox/start-relay.ts';
import type { ReadPolicy } from '../command/read-policy.ts';
import { ActorRateLimiter } from '../command/rate-limit.ts';
import { refuseFrameworkSubjects } from '../domain/compose.ts';

export interface ExecutorServiceOptions {
  /** Serves cmd.> and query.>: with deploy/nats/permissions.conf the `executor` user, which may publish to inboxes only. */
  bus: Bus;
  /** Everything else: the outbox relay, the topology check, the operator queries (`executor-relay`). @defaultValue bus */
  relayBus?: Bus;
  db: Db;
  catalog: TaskCatalog;
  /** Checked at start-up: every task they can plan must be in `catalog` (UnknownPlannedTaskError). */
  executors?: Pick<ExecutorRegistry, 'get' | 'all'>;
  commands: Array<CommandDefinition<never>>;
  /** Who may read which resource (and its executions). @defaultValue only admins */
  readPolicy?: ReadPolicy;
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
  const relayBus = options.relayBus ?? bus;
  if (options.executors) checkPlannedTasks(options.catalog, options.executors.all());
  await verifyTopology(relayBus, defineTopology(config.topology));
  options.metrics?.addDatabaseGauges({
    sample: () => db.transaction((tx) => tx.metrics.snapshot(config.retention)),
    onError: (error) => logger.warn('metrics snapshot failed', { error: String(error) }),
  });
  const framework = [
    ...frameworkQueries(config.retention),
    ...deadLetterCommands(),
    ...operatorQueries({
      bus: relayBus,
      catalog: options.catalog,
      schedules: options.schedules ?? [],
      defaultThrottleLimit: config.throttle.defaultLimit,
      declaredThrottleLimits: declaredThrottleLimits(options.executors?.all() ?? []),
    }),
  ];
  refuseFrameworkSubjects(options.commands, framework);
  const relay = startRelay({ bus: relayBus, db, logger, sweepMs: config.sweepMs, claimGraceMs: config.claimGraceMs });
  const dispatcher = new CommandDispatcher({
    db,
    catalog: options.catalog,
    ...(options.executors ? { executors: options.executors } : {}),
    logger,
    backlogLimit: config.backlogLimit,
    longPlanSteps: config.longPlanSteps,
    throttleRecheckMs: config.throttle.recheckMs,
    auth: config.auth,
    ...(options.readPolicy ? { readPolicy: options.readPolicy } : {}),
    rateLimiter: new ActorRateLimiter(config.rateLimit),
    ...(options.metrics ? { metrics: options.metrics.runtime } : {}),
    commands: [...options.commands, ...framework],
  });
  const server = serveRequests(bus, {
    subjects: [COMMAND_WILDCARD, QUERY_WILDCARD],
    queue: EXECUTOR_QUEUE_GROUP,
    maxBytes: MAX_COMMAND_BYTES,
    maxInFlight: config.maxRequestsInFlight,
    handler: (request) => dispatcher.handle(request),
    onTooLarge: ({ size }) => dispatcher.tooLarge(size),
    onBusy: ({ subject, inFlight }) => dispatcher.busy(subject, inFlight, config.maxRequestsInFlight),
    onError: (error) => logger.error('request handling failed', { error }),
    replyPrefixes: config.replyPrefixes,
    // No reply (nothing is published), no handler: a reply subject is the caller's to choose.
    onRefused: ({ reason, subject, reply }) => {
      options.metrics?.runtime.requestRefused({ reason });
      logger.warn('request refused: no inbox to reply to', {
        reason,
        subject: boundedSubject(subject),
        reply: boundedSubject(reply),
      });
    },
  });
  await server.ready();
  if (config.auth.anonymous === 'allow')
    logger.warn('JETCEL_AUTH_ANONYMOUS=allow: requests without a token are served, as any actor they name', {
      hint: 'development only; set JETCEL_AUTH_ANONYMOUS=deny (the default) anywhere else',
    });
  logger.info('executor ready', {
    subjects: dispatcher.subjects(),
    // Never a secret: whether tokens can be verified (by which key ids), and what a caller without one gets.
    auth: {
      tokens: config.auth.keys === null ? 'refused' : 'verified',
      keyIds: config.auth.keys === null ? [] : [...config.auth.keys.byKid.keys()],
      anonymous: config.auth.anonymous,
    },
  });
  return {
    async stop() {
      await server.stop();
      await relay.stop();
    },
  };
}
