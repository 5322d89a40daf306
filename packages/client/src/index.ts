export { JetcelClient } from './client.ts';
export type { ExecutionFilter, ResourceFilter, DeadLetterFilter, RetentionStatsView } from './client.ts';
export { JetcelClientError, TRANSPORT_ERROR_CODES } from './errors.ts';
export type { ClientErrorCode, TransportErrorCode } from './errors.ts';
export { clientOptionsFromEnv } from './options.ts';
export type { ClientOptions } from './options.ts';
export type { CallOptions } from './transport.ts';
export { subjectKind } from './transport.ts';
export { followExecution, isTerminal } from './follow.ts';
export type { FollowOptions } from './follow.ts';
export { eventFilterSubject } from './tail.ts';
export type { EventFilter, EventTail, TailedEvent } from './tail.ts';
export type {
  ExecutionView,
  StepView,
  DeadLetterView,
  QueueStatsView,
  StreamStatsView,
  ConsumerStatsView,
  LeaseListView,
  LeaseView,
  ScheduleListView,
  ResourceListView,
  ResourceItemView,
} from '@jetcel/contracts';
