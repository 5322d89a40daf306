import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  buildPlan,
  defineExecutor,
  defineTask,
  doneWith,
  scheduleOf,
  ScheduleRefusedError,
  step,
  type ResourceSnapshot,
} from '../src/index.ts';

const snapshot = defineTask<{ name: string }>({
  name: 'test.snapshot',
  args: { parse: (value) => value as { name: string } },
  run: async () => undefined,
});
const backup = defineExecutor<{ name: string }>({
  name: 'thing.backup',
  kind: 'action',
  resourceType: 'thing',
  tasks: [snapshot],
  steps: ({ params }) => [step(snapshot, { name: params.name })],
});

const thing: ResourceSnapshot = {
  type: 'thing',
  id: 't1',
  state: 'OK',
  version: 1,
  errorMessage: '',
  errorTraceback: '',
  action: '',
  actionDetails: {},
  runtimeState: '',
  backendId: null,
  modifiedAt: new Date(0).toISOString(),
  fields: {},
};

test('scheduleOf names the resource, keeps the params and defaults to not heavy and fail on refusal', () => {
  const request = scheduleOf(backup, thing, { name: 'daily' });
  assert.equal(request.resource, 'thing:t1');
  assert.deepEqual(request.params, { name: 'daily' });
  assert.equal(request.heavy, false);
  assert.equal(request.onRefused, 'fail');
  assert.equal(request.executor, backup);
  const byRef = scheduleOf(backup, 'thing:t2', { name: 'x' }, { heavy: true, onRefused: 'skip' });
  assert.deepEqual([byRef.resource, byRef.heavy, byRef.onRefused], ['thing:t2', true, 'skip']);
  const outcome = doneWith({ result: { n: 1 }, schedule: [request] });
  assert.deepEqual(outcome, { kind: 'done', result: { n: 1 }, schedule: [request] });
});

test("scheduleOf refuses a resource of another type than the executor's", () => {
  assert.throws(() => scheduleOf(backup, 'volume:v1', { name: 'x' }), /runs on thing, not on volume:v1/);
});

test("scheduleOf's params are typed by the executor", () => {
  // @ts-expect-error the backup executor's params need a name
  scheduleOf(backup, thing, {});
  // @ts-expect-error a name is a string
  scheduleOf(backup, thing, { name: 1 });
});

test('buildPlan routes a call to tasks.heavy when asked for this execution only', () => {
  const input = { resource: thing, params: { name: 'n' } };
  assert.deepEqual(buildPlan(backup, input).steps[0], { task: 'test.snapshot', args: { name: 'n' } });
  const heavy = buildPlan(backup, input, { heavy: true });
  assert.deepEqual(heavy.steps[0], { task: 'test.snapshot', args: { name: 'n' }, queue: 'heavy' });
  assert.equal(heavy.onSuccess[0]?.queue, 'heavy');
});

test('ScheduleRefusedError names the executor, the resource and the reason, with a stable code', () => {
  const error = new ScheduleRefusedError({ executor: backup, resource: 'thing:t1' }, new Error('it is busy'));
  assert.equal(error.code, 'SCHEDULE_REFUSED');
  assert.equal(error.retryable, false);
  assert.deepEqual(error.details, { executor: 'thing.backup', resource: 'thing:t1', reason: 'it is busy' });
});
