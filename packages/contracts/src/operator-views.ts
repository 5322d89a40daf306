// The JSON shapes of the framework's operator queries (what `data` holds in an ok reply). The
// executor builds them; @jetcel/client and its users read them. Plain types: no I/O here.

export interface StepView {
  id: string;
  role: string;
  position: number;
  task: string;
  queue: string;
  /** queued, running, waiting, succeeded, failed, cancelled, dead */
  status: string;
  attempts: number;
  polls: number;
  worker: string | null;
  queuedAt: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  errorMessage: string | null;
  result: unknown;
}

/** Terminal execution statuses: the execution will not change any more. */
export const TERMINAL_EXECUTION_STATUSES = ['succeeded', 'failed', 'cancelled'] as const;

export interface ExecutionView {
  id: string;
  executor: string;
  resource: { type: string; id: string };
  /** running, cancel_requested, succeeded, failed, cancelled */
  status: string;
  actor: string | null;
  errorMessage: string | null;
  /** null for a caller who is not an admin: tracebacks are shown to admins only. */
  errorTraceback: string | null;
  createdAt: string | null;
  finishedAt: string | null;
  /** Present on query.execution.get, absent on list. */
  steps?: StepView[];
}

export interface DeadLetterView {
  id: string;
  reason: string;
  detail: string;
  subject: string;
  payload: string;
  payloadEncoding: string;
  executionId: string | null;
  stepId: string | null;
  deliveryCount: number;
  createdAt: string;
  redrivenAt: string | null;
}

/** One consumer of a stream, as query.queue.stats reports it. */
export interface ConsumerStatsView {
  name: string;
  /** Not yet delivered. */
  pending: number;
  /** Delivered, not yet acked (num_ack_pending): in flight on some worker. */
  inFlight: number;
  redelivered: number;
  /** Pull requests waiting for messages (num_waiting): idle worker slots asking. */
  waiting: number;
  ackWaitMs: number;
  /** When a message was last delivered / acked (ISO), null when never. */
  lastDelivered: string | null;
  lastAcked: string | null;
}

export interface StreamStatsView {
  stream: string;
  subjects: string[];
  messages: number;
  bytes: number;
  firstSeq: number;
  lastSeq: number;
  /** When the stream last stored a message (ISO), null when never. */
  lastActivity: string | null;
  /** Every consumer of the stream, by name. */
  consumers: ConsumerStatsView[];
}

/** query.queue.stats: each task stream and EVENTS, with every consumer of it. */
export interface QueueStatsView {
  /** `queue` is the task queue (regular, heavy, background) of both its lanes' streams, null for EVENTS. */
  streams: Array<StreamStatsView & { queue: string | null }>;
}

export interface LeaseView {
  key: string;
  slot: number;
  /** The holding execution, null when the value is unreadable. */
  executionId: string | null;
  /** The key's KV revision: the fencing token a backend checks. */
  revision: number;
  /** When the lease was taken or last renewed, and how long ago (ms). */
  renewedAt: string;
  ageMs: number;
}

/** query.lease.list: live leases grouped by kind and scope, with the limit in force and the waiters. */
export interface LeaseListView {
  scopes: Array<{
    kind: string;
    /** The decoded scope id, e.g. a cloud settings id. */
    scope: string;
    limit: number;
    /** Where the limit comes from: the scope's row, the kind's '*' row, or the service default. */
    limitSource: 'scope' | 'kind' | 'declared' | 'default';
    held: number;
    waiting: number;
    leases: LeaseView[];
  }>;
  /** Every row of the throttle limits table. */
  limits: Array<{ kind: string; scope: string; limit: number }>;
  /** The limit of a scope with no row; a negative limit switches throttling off. */
  defaultLimit: number;
}

/** query.schedule.list: the beat schedules this deployment defines. */
export interface ScheduleListView {
  items: Array<{
    name: string;
    task: string;
    queue: string;
    /** "every 600000 ms" or "cron 0 * * * * UTC" */
    describe: string;
    everyMs: number | null;
    cron: string | null;
    resource: string | null;
    lastTick: string | null;
    nextTick: string;
  }>;
}

export interface ResourceItemView {
  type: string;
  id: string;
  state: string;
  version: number;
  backendId: string | null;
  action: string;
  errorMessage: string;
  modifiedAt: string;
  fields: Record<string, unknown>;
}

/** query.resource.list: counts per type and state, and the matching resources (newest first). */
export interface ResourceListView {
  types: Array<{ type: string; total: number; byState: Record<string, number> }>;
  items: ResourceItemView[];
}
