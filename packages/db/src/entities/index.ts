export { Execution, EXECUTION_STATUSES } from './execution.ts';
export type { ExecutionStatus } from './execution.ts';
export { Step, STEP_STATUSES, STEP_ROLES } from './step.ts';
export type { StepStatus } from './step.ts';
export { Outbox } from './outbox.ts';
export { IdempotencyKey } from './idempotency-key.ts';
export { Group } from './group.ts';
export { defineResourceEntity, defineRecordEntity, COMMON_RESOURCE_PROPERTIES } from './resource-entity.ts';

import { Execution } from './execution.ts';
import { Step } from './step.ts';
import { Outbox } from './outbox.ts';
import { IdempotencyKey } from './idempotency-key.ts';
import { Group } from './group.ts';
export const FRAMEWORK_ENTITIES = [Execution, Step, Outbox, IdempotencyKey, Group];
