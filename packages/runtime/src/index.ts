// What a domain and a service use. Everything other workspace packages need only for their tests
// and benchmarks is in `./internal.ts` (`@jetcel/runtime/internal`).

// A domain's commands and queries.
export { adminOnly, defineCommand, defineQuery } from './command/commands.ts';
export type { CommandContext, CommandDefinition, CommandRecords, CommandResources } from './command/commands.ts';
export type { ScheduleResult } from './execution/schedule.ts';
export { isAdmin, requireAdmin } from './command/identity.ts';
export type { Authorizable, Caller } from './command/identity.ts';
export { ADMIN_READS, ownerReads, readAccess } from './command/read-policy.ts';
export type { ReadAccess, ReadPolicy, ReadScope } from './command/read-policy.ts';

// A step task's own entities, written with its step's commit.
export { taskEntityManager, TaskEntitiesUnavailableError } from './step/entities.ts';
export type { TaskEntityManager } from '@jetcel/db';

// Background tasks, standalone tasks and beat schedules.
export { enqueueBackground } from './background/enqueue.ts';
export type { BackgroundRequest, EnqueueResult } from './background/enqueue.ts';
export { createStandalonePublisher } from './background/standalone.ts';
export type { StandalonePublisher, StandalonePublishOptions } from './background/standalone.ts';
export { defineSchedule } from './beat/schedules.ts';
export type { Schedule, ScheduleOptions } from './beat/schedules.ts';
export { PRUNE_TASK, pruneTask, retentionPruner } from './retention/task.ts';
export type { RetentionPruner, RetentionServices } from './retention/task.ts';
export { PROVISIONING_TIMED_OUT, WATCHDOG_TASKS, watchdogTasks } from './watchdog/tasks.ts';
export { DEFAULT_WATCHDOG_CONFIG, watchdogConfigFromEnv, watchdogSchedules } from './watchdog/schedules.ts';
export type { WatchdogConfig } from './watchdog/schedules.ts';

// Services.
export { runService } from './service/run.ts';
export type { ServiceContext } from './service/run.ts';
export { serviceConfigFromEnv, parseQueueArg } from './service/config.ts';
export type { ServiceConfig } from './service/config.ts';
export { createLogger } from './service/logger.ts';
export { startExecutorService } from './service/executor.ts';
export type { ExecutorServiceOptions } from './service/executor.ts';
export { startWorker } from './service/worker.ts';
export type { RunningWorker, WorkerOptions } from './service/worker.ts';
export { startBeat } from './beat/beat.ts';
export type { BeatOptions, RunningBeat } from './beat/beat.ts';

// Domains: one object each, loaded from the deployment's configuration and merged.
export { defineDomain } from './domain/definition.ts';
export type { DevProcess, DomainDefinition, DomainExport } from './domain/definition.ts';
export { composeDomains } from './domain/compose.ts';
export type { ComposedDomains, DomainServices } from './domain/compose.ts';
export { DEFAULT_DOMAINS, configuredDomains, loadDomains } from './domain/load.ts';
export type { DomainList, LoadDomainsOptions } from './domain/load.ts';
export { DomainConfigError } from './domain/errors.ts';
export type { DomainConfigErrorCode, DomainConflictKind } from './domain/errors.ts';
