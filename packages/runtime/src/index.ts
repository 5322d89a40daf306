export { createLogger } from './logger.ts';
export { adminOnly, defineCommand, defineQuery } from './commands.ts';
export type { CommandContext, CommandDefinition } from './commands.ts';
export { CommandDispatcher } from './dispatcher.ts';
export type { CommandRequest } from './dispatcher.ts';
export { errorReply } from './errors-to-reply.ts';
export { scheduleExecution } from './schedule.ts';
export { Progress } from './progress.ts';
export type { ProgressDeps } from './progress.ts';
export { cancelExecution } from './cancel.ts';
export { runNestedExecutor } from './nested.ts';
export type { ScheduleResult } from './schedule.ts';
export { queueStep } from './queue-step.ts';
export type { TaskCatalog } from './queue-step.ts';
export { addStepMessage, addRequeuedStepMessages } from './step-messages.ts';
export { StepRunner } from './step-runner.ts';
export type { StepRunnerOptions } from './step-runner.ts';
export { serviceConfigFromEnv, parseQueueArg } from './config.ts';
export type { ServiceConfig } from './config.ts';
export { startRelay } from './outbox/start-relay.ts';
export { OutboxRelay } from './outbox/relay.ts';
export type { OutboxPublisher, RelayOptions } from './outbox/relay.ts';
export { Reconciler } from './reconcile/reconciler.ts';
export type { ReconcilerOptions } from './reconcile/reconciler.ts';
export { startWorker } from './worker-service.ts';
export type { WorkerOptions, RunningWorker } from './worker-service.ts';
export { startExecutorService } from './executor-service.ts';
export type { ExecutorServiceOptions } from './executor-service.ts';
export { frameworkQueries, executionView, stepView } from './framework-queries.ts';
export { runService } from './run-service.ts';
export { enqueueBackground, equalityKey } from './enqueue-background.ts';
export type { BackgroundRequest, EnqueueResult } from './enqueue-background.ts';
export {
  BACKGROUND_SUBJECT,
  backgroundRunMessage,
  standaloneMessage,
  addBackgroundMessage,
} from './background-messages.ts';
export { BackgroundRunner } from './background-runner.ts';
export type { BackgroundRunnerOptions } from './background-runner.ts';
export { commitBackgroundOutcome } from './background-commit.ts';
export type { BackgroundCommitDeps, BackgroundCommitSummary } from './background-commit.ts';
export { decodeTaskDelivery } from './delivery/decode.ts';
export type { DecodedTask } from './delivery/decode.ts';
export { createStandalonePublisher } from './standalone.ts';
export type { StandalonePublisher, StandalonePublishOptions } from './standalone.ts';
export { parseCron, cronMatches, cronPrevious, cronNext, CronSyntaxError } from './cron.ts';
export type { CronExpression } from './cron.ts';
export { defineSchedule } from './schedules.ts';
export type { Schedule, ScheduleOptions } from './schedules.ts';
export { startBeat } from './beat.ts';
export type { BeatOptions, RunningBeat } from './beat.ts';
export type { ServiceContext } from './run-service.ts';
export { writeDeadLetter } from './dead-letters.ts';
export type { DeadLetterInput } from './dead-letters.ts';
export { deadLetterCommands, deadLetterView } from './dead-letter-commands.ts';
export { ShutdownError } from './step-runner.ts';
export { DEFAULT_RETENTION, retentionConfigFromEnv } from './retention-config.ts';
export { PRUNE_TASK, pruneTask, retentionPruner } from './retention-task.ts';
export type { RetentionPruner, RetentionServices } from './retention-task.ts';
export { retentionStatsQuery } from './retention-query.ts';
export {
  ANONYMOUS_ACTOR,
  DEVELOPMENT_AUTH,
  identifyCaller,
  isAdmin,
  authorizeExecutor,
  requireActorOrAdmin,
  requireAdmin,
} from './identity.ts';
export type { Authorizable, Caller } from './identity.ts';
export { operatorQueries } from './operator/index.ts';
export type { OperatorQueriesOptions } from './operator/index.ts';
export { ADMIN_READS, READ_ACTION, ownerReads, readAccess } from './read-policy.ts';
export type { ReadAccess, ReadPolicy, ReadScope } from './read-policy.ts';
export { executorLogins, NatsLoginConfigError } from './executor-logins.ts';
export type { NatsLogin } from './executor-logins.ts';
