// Every subject, stream, consumer and bucket name jetcel uses. Nothing else builds these by hand.

/** The three task queues; each has its own stream, durable consumer and worker service. */
export const QUEUES = ['regular', 'heavy', 'background'] as const;
export type QueueName = (typeof QUEUES)[number];

export function isQueueName(value: string): value is QueueName {
  return (QUEUES as readonly string[]).includes(value);
}

export const taskSubject = (queue: QueueName): string => `tasks.${queue}`;
export const taskStream = (queue: QueueName): string => `TASKS_${queue.toUpperCase()}`;
export const taskConsumer = (queue: QueueName): string => `worker-${queue}`;

/**
 * Each queue has two lanes: `short` (its subject, stream and consumer above) and `long`, for steps
 * with a long plan still ahead of them. A worker serves both, the long lane in slots of its own, so
 * short executions never queue behind long chains (docs/design.md).
 */
export const TASK_LANES = ['short', 'long'] as const;
export type TaskLane = (typeof TASK_LANES)[number];

export const laneSubject = (queue: QueueName, lane: TaskLane): string =>
  lane === 'long' ? `${taskSubject(queue)}.long` : taskSubject(queue);
export const laneStream = (queue: QueueName, lane: TaskLane): string =>
  lane === 'long' ? `${taskStream(queue)}_LONG` : taskStream(queue);
export const laneConsumer = (queue: QueueName, lane: TaskLane): string =>
  lane === 'long' ? `${taskConsumer(queue)}-long` : taskConsumer(queue);
/** The lane a task message was published on, from its subject. */
export const laneOfSubject = (subject: string): TaskLane => (subject.endsWith('.long') ? 'long' : 'short');

export const EVENTS_STREAM = 'EVENTS';
export const EVENTS_SUBJECTS = 'events.>';

/** Queue group shared by every executor replica for commands and queries. */
export const EXECUTOR_QUEUE_GROUP = 'executor';
export const COMMAND_PREFIX = 'cmd';
export const QUERY_PREFIX = 'query';
export const COMMAND_WILDCARD = 'cmd.>';
export const QUERY_WILDCARD = 'query.>';

export const commandSubject = (resource: string, action: string): string => `${COMMAND_PREFIX}.${resource}.${action}`;
export const querySubject = (resource: string, action: string): string => `${QUERY_PREFIX}.${resource}.${action}`;

/** Event subject: events.<resourceType>.<resourceId>.<event>. */
export const eventSubject = (resourceType: string, resourceId: string, event: string): string =>
  `events.${resourceType}.${resourceId}.${event}`;

/** KV bucket that holds throttle leases (`<kind>.<scope>.<slot>`). */
export const LEASES_BUCKET = 'LEASES';

/** Header names carried on commands, task messages and events. */
export const HEADERS = {
  msgId: 'Nats-Msg-Id',
  idempotencyKey: 'Idempotency-Key',
  actor: 'Actor',
  // "Bearer <jwt>": the signed identity of the caller (see @jetcel/identity).
  authorization: 'Authorization',
  traceparent: 'traceparent',
  // A step message's resource ("type:id"): a hint its claim reads the row with, checked against the step.
  resource: 'Jetcel-Resource',
} as const;

const LEASE_KIND = /^[A-Za-z0-9_-]{1,64}$/;

/** Scope ids can be anything ("openstack.instance:42"); KV keys cannot: encode them (base64url). */
export function encodeLeaseScope(scope: string): string {
  if (scope.length === 0) throw new TypeError('A throttle scope cannot be empty');
  return Buffer.from(scope, 'utf8').toString('base64url');
}

/** Lease key `<kind>.<encodedScope>.<slot>` in the LEASES bucket. */
export function leaseKey(kind: string, scope: string, slot: number): string {
  if (!LEASE_KIND.test(kind)) throw new TypeError(`Invalid throttle kind "${kind}" (letters, digits, "_" and "-")`);
  return `${kind}.${encodeLeaseScope(scope)}.${slot}`;
}

/** The KV key filter for every slot of a kind and scope. */
export function leaseKeyFilter(kind: string, scope: string): string {
  return `${kind}.${encodeLeaseScope(scope)}.*`;
}

/** The parts of a lease key, the scope decoded; null for a key that is not `<kind>.<scope>.<slot>`. */
export function parseLeaseKey(key: string): { kind: string; scope: string; slot: number } | null {
  const [kind = '', encoded = '', slot = '', ...rest] = key.split('.');
  if (rest.length > 0 || !LEASE_KIND.test(kind) || !/^\d+$/.test(slot) || !/^[A-Za-z0-9_-]+$/.test(encoded))
    return null;
  return { kind, scope: Buffer.from(encoded, 'base64url').toString('utf8'), slot: Number(slot) };
}
