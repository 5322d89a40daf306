import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  COMMAND_PREFIX,
  COMMAND_WILDCARD,
  EVENTS_STREAM,
  EVENTS_SUBJECTS,
  EXECUTOR_QUEUE_GROUP,
  HEADERS,
  LEASES_BUCKET,
  QUERY_PREFIX,
  QUERY_WILDCARD,
  QUEUES,
  commandSubject,
  eventSubject,
  isQueueName,
  querySubject,
  laneConsumer,
  laneStream,
  laneSubject,
  taskConsumer,
  taskStream,
  taskSubject,
  type QueueName,
} from '../src/index.ts';

const EXPECTED: Record<QueueName, { subject: string; stream: string; consumer: string }> = {
  regular: { subject: 'tasks.regular', stream: 'TASKS_REGULAR', consumer: 'worker-regular' },
  heavy: { subject: 'tasks.heavy', stream: 'TASKS_HEAVY', consumer: 'worker-heavy' },
  background: { subject: 'tasks.background', stream: 'TASKS_BACKGROUND', consumer: 'worker-background' },
};

test('C3: the three queues are regular, heavy and background', () => {
  assert.deepEqual([...QUEUES], ['regular', 'heavy', 'background']);
});

for (const queue of QUEUES) {
  test(`C3: queue ${queue} has subject ${EXPECTED[queue].subject}, stream ${EXPECTED[queue].stream}, consumer ${EXPECTED[queue].consumer}`, () => {
    assert.equal(taskSubject(queue), EXPECTED[queue].subject);
    assert.equal(taskStream(queue), EXPECTED[queue].stream);
    assert.equal(taskConsumer(queue), EXPECTED[queue].consumer);
  });
}

test('C3: no two queues share a subject, stream or consumer', () => {
  for (const name of [taskSubject, taskStream, taskConsumer]) {
    assert.equal(new Set(QUEUES.map(name)).size, QUEUES.length);
  }
});

test('lanes: the short lane is the queue itself; the long lane has its own subject, stream and consumer', () => {
  for (const queue of QUEUES) {
    assert.equal(laneSubject(queue, 'short'), taskSubject(queue));
    assert.equal(laneStream(queue, 'short'), taskStream(queue));
    assert.equal(laneConsumer(queue, 'short'), taskConsumer(queue));
  }
  assert.equal(laneSubject('regular', 'long'), 'tasks.regular.long');
  assert.equal(laneStream('regular', 'long'), 'TASKS_REGULAR_LONG');
  assert.equal(laneConsumer('regular', 'long'), 'worker-regular-long');
  const all = QUEUES.flatMap((queue) => (['short', 'long'] as const).map((lane) => laneStream(queue, lane)));
  assert.equal(new Set(all).size, QUEUES.length * 2);
});

test('C3: isQueueName accepts exactly the three queues', () => {
  for (const queue of QUEUES) assert.equal(isQueueName(queue), true, queue);
  for (const value of ['', 'tasks', 'tasks.regular', 'Regular', 'HEAVY', 'default', 'toString', ' heavy']) {
    assert.equal(isQueueName(value), false, JSON.stringify(value));
  }
});

test('commands and queries: cmd.<resource>.<action> and query.<resource>.<action>, inside their wildcards', () => {
  assert.equal(commandSubject('instance', 'create'), 'cmd.instance.create');
  assert.equal(commandSubject('execution', 'cancel'), 'cmd.execution.cancel');
  assert.equal(querySubject('instance', 'get'), 'query.instance.get');
  assert.equal(querySubject('execution', 'list'), 'query.execution.list');
  assert.equal(COMMAND_PREFIX, 'cmd');
  assert.equal(QUERY_PREFIX, 'query');
  assert.equal(COMMAND_WILDCARD, 'cmd.>');
  assert.equal(QUERY_WILDCARD, 'query.>');
  assert.ok(commandSubject('vm', 'resize').startsWith(COMMAND_WILDCARD.slice(0, -1)));
  assert.ok(querySubject('vm', 'get').startsWith(QUERY_WILDCARD.slice(0, -1)));
  assert.equal(EXECUTOR_QUEUE_GROUP, 'executor');
});

test('C10: events.<resourceType>.<resourceId>.<event>, inside the EVENTS stream subjects', () => {
  const subject = eventSubject('instance', '0b6f3c1e-5d1a-4c1e-9a51-8f3e2b7c9d10', 'state_changed');
  assert.equal(subject, 'events.instance.0b6f3c1e-5d1a-4c1e-9a51-8f3e2b7c9d10.state_changed');
  assert.equal(eventSubject('volume', '7', 'deleted'), 'events.volume.7.deleted');
  assert.equal(EVENTS_STREAM, 'EVENTS');
  assert.equal(EVENTS_SUBJECTS, 'events.>');
  assert.ok(subject.startsWith(EVENTS_SUBJECTS.slice(0, -1)));
});

test('leases bucket and header names', () => {
  assert.equal(LEASES_BUCKET, 'LEASES');
  assert.deepEqual(HEADERS, {
    msgId: 'Nats-Msg-Id',
    idempotencyKey: 'Idempotency-Key',
    actor: 'Actor',
    authorization: 'Authorization',
    traceparent: 'traceparent',
    resource: 'Jetcel-Resource',
  });
});
