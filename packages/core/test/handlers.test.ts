import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  BUILTIN_TASKS,
  PLAN_VERSION,
  UndeclaredTaskError,
  UnknownPlanVersionError,
  buildPlan,
  defineExecutor,
  handler,
  readPlan,
  runExecutorTask,
  step,
  type ExecutorDefinition,
  type JsonObject,
  type ResourceSnapshot,
} from '../src/index.ts';

const volume: ResourceSnapshot = {
  type: 'volume',
  id: 'v1',
  state: 'UPDATE_SCHEDULED',
  version: 2,
  errorMessage: '',
  errorTraceback: '',
  action: 'Extend',
  actionDetails: {},
  runtimeState: '',
  backendId: 'b-1',
  modifiedAt: '2026-01-01T00:00:00.000Z',
  fields: { instanceId: 'i1' },
};

const pull = defineExecutor<{ deep: boolean }>({
  name: 'instance.pull',
  kind: 'action',
  resourceType: 'instance',
  tasks: ['instance.pull'],
  steps: () => [step('instance.pull')],
});

function extend(extra: Partial<ExecutorDefinition<JsonObject>>): ExecutorDefinition<JsonObject> {
  return defineExecutor<JsonObject>({
    name: 'volume.extend',
    kind: 'action',
    resourceType: 'volume',
    tasks: ['volume.extend', 'volume.extend_erred', 'notify', runExecutorTask],
    steps: () => [step('volume.extend')],
    ...extra,
  });
}

test('handlers: a chain is stored in order; a single call is stored as a chain of one', () => {
  const plan = buildPlan(
    extend({
      onSuccess: () => [handler.setOk(`instance:i1`), handler.setOk()],
      onFailure: () => step('volume.extend_erred'),
    }),
    { resource: volume, params: {} },
  );
  assert.equal(plan.v, PLAN_VERSION);
  assert.deepEqual(plan.onSuccess, [
    { task: BUILTIN_TASKS.setOk, resource: 'instance:i1' },
    { task: BUILTIN_TASKS.setOk },
  ]);
  assert.deepEqual(plan.onFailure, [{ task: 'volume.extend_erred' }]);
});

test('handlers: another executor as a handler is a nested-executor call, on the execution resource unless named', () => {
  assert.deepEqual(handler.executor(pull, undefined, { deep: true }), {
    task: BUILTIN_TASKS.runExecutor,
    args: { executor: 'instance.pull', params: { deep: true } },
  });
  assert.deepEqual(handler.executor(pull, 'instance:i1', { deep: false }, { queue: 'heavy' }), {
    task: BUILTIN_TASKS.runExecutor,
    resource: 'instance:i1',
    args: { executor: 'instance.pull', params: { deep: false } },
    queue: 'heavy',
  });
  const plan = buildPlan(extend({ onFailure: () => handler.executor(pull, 'instance:i1', { deep: true }) }), {
    resource: volume,
    params: {},
  });
  assert.deepEqual(
    plan.onFailure.map((call) => [call.task, call.resource]),
    [[BUILTIN_TASKS.runExecutor, 'instance:i1']],
  );
});

test('handlers: a heavy executor routes every call of both chains to heavy, keeping a queue a call names', () => {
  const plan = buildPlan(
    extend({
      heavy: true,
      onSuccess: () => [handler.setOk(), step('notify', undefined, { queue: 'regular' })],
      onFailure: () => [step('volume.extend_erred'), handler.executor(pull, 'instance:i1', { deep: true })],
    }),
    { resource: volume, params: {} },
  );
  assert.deepEqual(
    [...plan.onSuccess, ...plan.onFailure].map((call) => call.queue),
    ['heavy', 'regular', 'heavy', 'heavy'],
  );
});

test('handlers: an empty chain, or a chain naming an undeclared task, is refused when the plan is built', () => {
  assert.throws(() => buildPlan(extend({ onSuccess: () => [] }), { resource: volume, params: {} }), /empty onSuccess/);
  assert.throws(
    () =>
      buildPlan(extend({ onFailure: () => [handler.setErred(), step('undeclared')] }), {
        resource: volume,
        params: {},
      }),
    (error: unknown) => error instanceof UndeclaredTaskError && error.task === 'undeclared',
  );
  const withoutNested = defineExecutor<JsonObject>({ ...extend({}), tasks: ['volume.extend'] });
  assert.throws(
    () =>
      buildPlan(
        { ...withoutNested, onSuccess: () => handler.executor(pull, undefined, { deep: true }) },
        {
          resource: volume,
          params: {},
        },
      ),
    (error: unknown) => error instanceof UndeclaredTaskError && error.task === BUILTIN_TASKS.runExecutor,
  );
});

test('stored plans: a version-1 plan (one call per handler) reads as chains of one; the current version as it is', () => {
  const v1 = {
    v: 1,
    executor: 'volume.extend',
    steps: [{ task: 'volume.extend' }],
    onSuccess: { task: BUILTIN_TASKS.setOk },
    onFailure: { task: 'volume.extend_erred', queue: 'heavy' },
    throttle: { kind: 'k', scope: 's' },
  };
  assert.deepEqual(readPlan(JSON.parse(JSON.stringify(v1))), {
    ...v1,
    v: PLAN_VERSION,
    onSuccess: [{ task: BUILTIN_TASKS.setOk }],
    onFailure: [{ task: 'volume.extend_erred', queue: 'heavy' }],
  });
  const current = buildPlan(extend({}), { resource: volume, params: {} });
  assert.deepEqual(readPlan(JSON.parse(JSON.stringify(current))), current);
});

test('stored plans: a plan of an unknown version is refused with a typed error', () => {
  for (const stored of [{ v: PLAN_VERSION + 1 }, { v: 0 }, null, 'plan']) {
    assert.throws(
      () => readPlan(stored),
      (error: unknown) => error instanceof UnknownPlanVersionError && error.code === 'UNKNOWN_PLAN_VERSION',
    );
  }
});
