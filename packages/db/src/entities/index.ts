export { Execution, EXECUTION_STATUSES } from './execution.ts';
export type { ExecutionStatus } from './execution.ts';
export { Step, STEP_STATUSES, STEP_ROLES } from './step.ts';
export type { StepStatus } from './step.ts';
export { Outbox } from './outbox.ts';
export { IdempotencyKey } from './idempotency-key.ts';
export { Group } from './group.ts';
export { ThrottleLimit, ThrottleWaiter } from './throttle.ts';
export { DeadLetter, DEAD_LETTER_REASONS } from './dead-letter.ts';
export type { DeadLetterReason } from './dead-letter.ts';
export { BackgroundRun, BACKGROUND_RUN_STATUSES } from './background-run.ts';
export type { BackgroundRunStatus } from './background-run.ts';
export { ScheduleTick } from './schedule-tick.ts';
export { defineResourceEntity, defineRecordEntity, COMMON_RESOURCE_PROPERTIES } from './resource-entity.ts';

import { Execution } from './execution.ts';
import { Step } from './step.ts';
import { Outbox } from './outbox.ts';
import { IdempotencyKey } from './idempotency-key.ts';
import { Group } from './group.ts';
import { ThrottleLimit, ThrottleWaiter } from './throttle.ts';
import { DeadLetter } from './dead-letter.ts';
import { BackgroundRun } from './background-run.ts';
import { ScheduleTick } from './schedule-tick.ts';
export const FRAMEWORK_ENTITIES = [
  Execution,
  Step,
  Outbox,
  IdempotencyKey,
  Group,
  ThrottleLimit,
  ThrottleWaiter,
  BackgroundRun,
  ScheduleTick,
  DeadLetter,
];
