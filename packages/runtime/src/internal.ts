// Not for a domain or a service: the parts other workspace packages drive directly in their
// end-to-end tests and benchmarks (a step runner without a worker, a relay without an executor, the
// framework's own subjects). May change with any release.
export { Progress } from './execution/progress.ts';
export type { ProgressDeps } from './execution/progress.ts';
export { scheduleExecution, scheduleExecutions } from './execution/schedule.ts';
export type { BulkScheduleInput } from './execution/schedule.ts';
export type { TaskCatalog } from './execution/queue-step.ts';
export { StepRunner } from './step/runner.ts';
export { ThrottleGate, DEFAULT_THROTTLE_CONFIG } from './throttle/slots.ts';
export type { ThrottleConfig } from './throttle/slots.ts';
export type { StepRunnerOptions } from './step/runner.ts';
export { startRelay } from './outbox/start-relay.ts';
export { OutboxRelay } from './outbox/relay.ts';
export type { OutboxPublisher, RelayOptions } from './outbox/relay.ts';
export { frameworkQueries } from './command/framework-queries.ts';
export { deadLetterCommands } from './command/dead-letter-commands.ts';
export { operatorQueries } from './operator/index.ts';
export type { OperatorQueriesOptions } from './operator/index.ts';
