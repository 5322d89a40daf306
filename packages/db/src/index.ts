export { Db } from './db.ts';
export type { DbOptions, TransactionOptions } from './db.ts';
export { Tx } from './tx.ts';
export { OutboxRelay } from './relay.ts';
export type { OutboxPublisher, RelayOptions } from './relay.ts';
export type { OutboxRow, OutboxRowInput } from './outbox-store.ts';
export type { ClaimResult, NewStep } from './step-store.ts';
export type { WriteContext } from './resource-store.ts';
export type { IdempotencyLookup } from './idempotency-store.ts';
export type { ExecutionRecord, StepRecord } from './records.ts';
export { ConcurrentUpdateError, ClaimLostError } from './errors.ts';
export { faultPoint, FAULT_POINTS } from './faults.ts';
export type { FaultPoint } from './faults.ts';
export { migrateUp, migrateDown, pendingMigrations, ensureDatabase, FRAMEWORK_MIGRATIONS } from './migrate.ts';
export type { SqlMigration, MigrationSet } from './migrate.ts';
export {
  defineResourceEntity,
  defineRecordEntity,
  EXECUTION_STATUSES,
  STEP_STATUSES,
} from './entities/index.ts';
export type { ExecutionStatus, StepStatus } from './entities/index.ts';
