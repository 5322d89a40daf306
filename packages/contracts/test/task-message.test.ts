import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { QUEUES, TASK_MESSAGE_VERSION, taskMessageSchema } from '../src/index.ts';

const valid = () => ({
  v: TASK_MESSAGE_VERSION,
  task: 'vm.create_backend',
  queue: 'heavy',
  executionId: randomUUID(),
  stepId: randomUUID(),
  attempt: 1,
  args: { flavor: 'm1.small' },
});

test('G5: the task message version is 1', () => {
  assert.equal(TASK_MESSAGE_VERSION, 1);
});

test('C3: a well-formed task message parses unchanged, for every queue', () => {
  for (const queue of QUEUES) {
    const message = { ...valid(), queue };
    assert.deepEqual(taskMessageSchema.parse(message), message);
  }
  const nullArgs = { ...valid(), args: null };
  assert.deepEqual(taskMessageSchema.parse(nullArgs), nullArgs);
});

test('G2: a task message with an unknown field is rejected', () => {
  const result = taskMessageSchema.safeParse({ ...valid(), actor: 'alice' });
  assert.equal(result.success, false);
  assert.equal(taskMessageSchema.safeParse({ ...valid(), resource: 'vm:1' }).success, false);
});

test('G2: a task message whose stepId or executionId is not a uuid is rejected', () => {
  assert.equal(taskMessageSchema.safeParse({ ...valid(), stepId: 'step-1' }).success, false);
  assert.equal(taskMessageSchema.safeParse({ ...valid(), stepId: '' }).success, false);
  assert.equal(taskMessageSchema.safeParse({ ...valid(), stepId: 42 }).success, false);
  assert.equal(taskMessageSchema.safeParse({ ...valid(), executionId: 'not-a-uuid' }).success, false);
});

test('G2: missing or mistyped fields are rejected', () => {
  const base = valid();
  for (const key of ['v', 'task', 'queue', 'executionId', 'stepId', 'attempt'] as const) {
    const { [key]: _dropped, ...rest } = base;
    assert.equal(taskMessageSchema.safeParse(rest).success, false, `without ${key}`);
  }
  const bad: Array<Record<string, unknown>> = [
    { v: 0 },
    { v: 1.5 },
    { v: '1' },
    { task: '' },
    { queue: 'tasks.heavy' },
    { queue: 'default' },
    { attempt: -1 },
    { attempt: 1.5 },
  ];
  for (const patch of bad) {
    assert.equal(taskMessageSchema.safeParse({ ...base, ...patch }).success, false, JSON.stringify(patch));
  }
});

test('G5: a newer message version still parses (workers decide what to do with it)', () => {
  assert.equal(taskMessageSchema.safeParse({ ...valid(), v: 2 }).success, true);
});

test('C7: attempts are 1-based: attempt 0 is rejected', () => {
  assert.equal(taskMessageSchema.safeParse({ ...valid(), attempt: 0 }).success, false);
});
