export { createLogger } from './service/logger.ts';
export { adminOnly, defineCommand, defineQuery } from './command/commands.ts';
export type { CommandContext, CommandDefinition } from './command/commands.ts';
export { CommandDispatcher } from './command/dispatcher.ts';
export type { CommandRequest } from './command/dispatcher.ts';
export { errorReply } from './command/errors-to-reply.ts';
export { scheduleExecution } from './execution/schedule.ts';
export { Progress } from './execution/progress.ts';
export type { ProgressDeps } from './execution/progress.ts';
export { cancelExecution } from './execution/cancel.ts';
export { runNestedExecutor } from './execution/nested.ts';
export type { ScheduleResult } from './execution/schedule.ts';
export { queueStep } from './execution/queue-step.ts';
export type { TaskCatalog } from './execution/queue-step.ts';
export { addStepMessage, addRequeuedStepMessages } from './execution/step-messages.ts';
export { StepRunner } from './step/runner.ts';
export type { StepRunnerOptions } from './step/runner.ts';
export { ThrottleGate, DEFAULT_THROTTLE_CONFIG } from './throttle/slots.ts';
export type { ThrottleConfig } from './throttle/slots.ts';
export { serviceConfigFromEnv, parseQueueArg } from './service/config.ts';
export type { ServiceConfig } from './service/config.ts';
export { startRelay } from './outbox/start-relay.ts';
export { OutboxRelay } from './outbox/relay.ts';
export type { OutboxPublisher, RelayOptions } from './outbox/relay.ts';
export { Reconciler } from './reconcile/reconciler.ts';
export type { ReconcilerOptions } from './reconcile/reconciler.ts';
export { startWorker } from './service/worker.ts';
export type { WorkerOptions, RunningWorker } from './service/worker.ts';
export { startExecutorService } from './service/executor.ts';
export type { ExecutorServiceOptions } from './service/executor.ts';
export { frameworkQueries, executionView, stepView } from './command/framework-queries.ts';
export { runService } from './service/run.ts';
export { enqueueBackground, equalityKey } from './background/enqueue.ts';
export type { BackgroundRequest, EnqueueResult } from './background/enqueue.ts';
export {
  BACKGROUND_SUBJECT,
  backgroundRunMessage,
  standaloneMessage,
  addBackgroundMessage,
} from './background/messages.ts';
export { BackgroundRunner } from './background/runner.ts';
export type { BackgroundRunnerOptions } from './background/runner.ts';
export { commitBackgroundOutcome } from './background/commit.ts';
export type { BackgroundCommitDeps, BackgroundCommitSummary } from './background/commit.ts';
export { decodeTaskDelivery } from './delivery/decode.ts';
export type { DecodedTask } from './delivery/decode.ts';
export { createStandalonePublisher } from './background/standalone.ts';
export type { StandalonePublisher, StandalonePublishOptions } from './background/standalone.ts';
export { parseCron, cronMatches, cronPrevious, cronNext, CronSyntaxError } from './beat/cron.ts';
export type { CronExpression } from './beat/cron.ts';
export { defineSchedule } from './beat/schedules.ts';
export type { Schedule, ScheduleOptions } from './beat/schedules.ts';
export { startBeat } from './beat/beat.ts';
export type { BeatOptions, RunningBeat } from './beat/beat.ts';
export type { ServiceContext } from './service/run.ts';
export { writeDeadLetter } from './delivery/dead-letters.ts';
export type { DeadLetterInput } from './delivery/dead-letters.ts';
export { deadLetterCommands, deadLetterView } from './command/dead-letter-commands.ts';
export { ShutdownError } from './step/runner.ts';
export { DEFAULT_RETENTION, retentionConfigFromEnv } from './retention/config.ts';
export { PRUNE_TASK, pruneTask, retentionPruner } from './retention/task.ts';
export type { RetentionPruner, RetentionServices } from './retention/task.ts';
export { retentionStatsQuery } from './retention/query.ts';
export {
  ANONYMOUS_ACTOR,
  DEVELOPMENT_AUTH,
  identifyCaller,
  isAdmin,
  authorizeExecutor,
  requireActorOrAdmin,
  requireAdmin,
} from './command/identity.ts';
export type { Authorizable, Caller } from './command/identity.ts';
export { operatorQueries } from './operator/index.ts';
export type { OperatorQueriesOptions } from './operator/index.ts';
export { ADMIN_READS, READ_ACTION, ownerReads, readAccess } from './command/read-policy.ts';
export type { ReadAccess, ReadPolicy, ReadScope } from './command/read-policy.ts';
export { executorLogins, NatsLoginConfigError } from './service/logins.ts';
export type { NatsLogin } from './service/logins.ts';
