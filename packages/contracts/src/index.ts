export {
  QUEUES,
  isQueueName,
  taskSubject,
  taskStream,
  taskConsumer,
  TASK_LANES,
  laneSubject,
  laneStream,
  laneConsumer,
  laneOfSubject,
  EVENTS_STREAM,
  EVENTS_SUBJECTS,
  EXECUTOR_QUEUE_GROUP,
  COMMAND_PREFIX,
  QUERY_PREFIX,
  COMMAND_WILDCARD,
  QUERY_WILDCARD,
  commandSubject,
  querySubject,
  eventSubject,
  LEASES_BUCKET,
  leaseKey,
  leaseKeyFilter,
  encodeLeaseScope,
  parseLeaseKey,
  HEADERS,
} from './names.ts';
export type { QueueName, TaskLane } from './names.ts';
export { ERROR_CODES, isErrorCode, isRetryableCode } from './errors.ts';
export type { ErrorCode } from './errors.ts';
export { replySchema, okReply } from './reply.ts';
export type { Reply, ReplyError } from './reply.ts';
export { formatResourceRef, parseResourceRef } from './resource-ref.ts';
export type { ResourceRef } from './resource-ref.ts';
export { MAX_COMMAND_BYTES, MAX_TASK_ARGS_BYTES, MAX_TASK_MESSAGE_BYTES } from './limits.ts';
export { TASK_MESSAGE_VERSION, taskMessageSchema, backgroundMessageSchema } from './task-message.ts';
export type { TaskMessage, BackgroundMessage } from './task-message.ts';
export { EVENT_VERSION, resourceEventSchema, EVENT_NAMES } from './event.ts';
export type { ResourceEvent } from './event.ts';
export { TERMINAL_EXECUTION_STATUSES } from './operator-views.ts';
export type {
  StepView,
  ExecutionView,
  DeadLetterView,
  QueueStatsView,
  StreamStatsView,
  ConsumerStatsView,
  LeaseView,
  LeaseListView,
  ScheduleListView,
  ResourceItemView,
  ResourceListView,
} from './operator-views.ts';
