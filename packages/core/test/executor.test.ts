import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  BUILTIN_TASKS,
  ExecutorRegistry,
  InvalidStateError,
  PLAN_VERSION,
  ValidationError,
  RESOURCE_STATES,
  applyTransition,
  buildPlan,
  defineExecutor,
  isGroup,
  preApply,
  type ExecutorDefinition,
  type ExecutorInput,
  type ExecutorKind,
  type JsonObject,
  type Plan,
  type PlanNode,
  type ResourceSnapshot,
  type ResourceState,
  type StepCall,
} from '../src/index.ts';

function resource(state: ResourceState, overrides: Partial<ResourceSnapshot> = {}): ResourceSnapshot {
  return {
    type: 'vm',
    id: 'r1',
    state,
    version: 4,
    errorMessage: '',
    errorTraceback: '',
    action: '',
    actionDetails: {},
    runtimeState: '',
    backendId: null,
    modifiedAt: '2026-01-01T00:00:00.000Z',
    fields: {},
    ...overrides,
  };
}

const input = (state: ResourceState, params: JsonObject = {}): ExecutorInput<JsonObject> => ({
  resource: resource(state),
  params,
});

/** Every task the executors of these tests plan. */
const PLANNED = ['a', 'b', 'port.create', 'vm.a', 'vm.after_create', 'vm.b', 'vm.begin', 'vm.c', 'vm.compensate']
  .concat(['vm.create_backend', 'volume.a', 'volume.b', 'volume.create'])
  .concat(['create', 'update', 'delete', 'action'].map((kind) => `vm.${kind}_backend`));

function executor(kind: ExecutorKind, extra: Partial<ExecutorDefinition> = {}): ExecutorDefinition {
  return defineExecutor({
    name: `vm.${kind}`,
    kind,
    resourceType: 'vm',
    tasks: PLANNED,
    steps: () => [{ task: `vm.${kind}_backend` }],
    ...extra,
  });
}

/** Every step call of a plan: chain steps and group members in order, then both handlers. */
function allCalls(plan: Plan): StepCall[] {
  const nodes = plan.steps.flatMap((node: PlanNode) => (isGroup(node) ? node.group : [node]));
  return [...nodes, ...plan.onSuccess, ...plan.onFailure];
}

/** An update needs the changed fields; the other kinds take no params here. */
const validParams = (kind: ExecutorKind): JsonObject => (kind === 'update' ? { updatedFields: ['name'] } : {});

const OK_OR_ERRED: readonly ResourceState[] = ['OK', 'ERRED'];
const OTHER_THAN_OK_OR_ERRED = RESOURCE_STATES.filter((state) => !OK_OR_ERRED.includes(state));

function assertRefused(kind: 'update' | 'delete' | 'action', state: ResourceState): void {
  assert.throws(
    () => preApply(executor(kind), input(state, validParams(kind))),
    (error: unknown) => {
      assert.ok(error instanceof InvalidStateError, `${kind} from ${state}`);
      assert.equal(error.code, 'INVALID_STATE');
      assert.equal(error.message, `Cannot run vm.${kind} on vm r1: it is ${state}, not OK or ERRED`);
      assert.deepEqual(error.details, { state, executor: `vm.${kind}` });
      return true;
    },
  );
}

test('B1/[1]: a create executor needs CREATION_SCHEDULED and changes nothing synchronously', () => {
  assert.deepEqual(preApply(executor('create'), input('CREATION_SCHEDULED')), { kind: 'apply', patch: undefined });
});

test('B1: a create executor on a resource in any other state fails with INVALID_STATE', () => {
  for (const state of RESOURCE_STATES.filter((s) => s !== 'CREATION_SCHEDULED')) {
    assert.throws(
      () => preApply(executor('create'), input(state)),
      (error: unknown) => {
        assert.ok(error instanceof InvalidStateError, state);
        assert.equal(error.code, 'INVALID_STATE');
        assert.equal(error.message, `A create executor needs a CREATION_SCHEDULED resource, not ${state}`);
        return true;
      },
    );
  }
});

test('B2/[5]: an update executor moves OK or ERRED to UPDATE_SCHEDULED via schedule_updating', () => {
  for (const state of OK_OR_ERRED) {
    const result = preApply(executor('update'), input(state, { updatedFields: ['name'] }));
    assert.deepEqual(result, { kind: 'apply', patch: { transition: 'schedule_updating' } }, state);
    assert.equal(applyTransition(state, 'schedule_updating').state, 'UPDATE_SCHEDULED');
  }
});

test('B3/[6]: an update executor from any state other than OK/ERRED fails with INVALID_STATE', () => {
  for (const state of OTHER_THAN_OK_OR_ERRED) assertRefused('update', state);
});

test('B5/[9]: a delete executor moves OK or ERRED to DELETION_SCHEDULED via schedule_deleting', () => {
  for (const state of OK_OR_ERRED) {
    assert.deepEqual(preApply(executor('delete'), input(state)), {
      kind: 'apply',
      patch: { transition: 'schedule_deleting' },
    });
  }
});

test('B3/[6]: a delete executor from any state other than OK/ERRED fails with INVALID_STATE', () => {
  for (const state of OTHER_THAN_OK_OR_ERRED) assertRefused('delete', state);
});

test('B4/[8]: an action executor from OK or ERRED schedules updating and records action and action_details', () => {
  const seen: Array<ExecutorInput<JsonObject>> = [];
  const extend = executor('action', {
    name: 'volume.extend',
    action: 'Extend',
    actionDetails: (given) => {
      seen.push(given);
      return { message: 'Extend volume', old_size: 10, new_size: given.params.size ?? null };
    },
  });
  for (const state of OK_OR_ERRED) {
    const given = input(state, { size: 20 });
    assert.deepEqual(preApply(extend, given), {
      kind: 'apply',
      patch: {
        transition: 'schedule_updating',
        action: 'Extend',
        actionDetails: { message: 'Extend volume', old_size: 10, new_size: 20 },
      },
    });
    assert.equal(seen.at(-1), given);
  }
});

test('B4: an action executor without an action label or details records "" and {}', () => {
  assert.deepEqual(preApply(executor('action'), input('OK')), {
    kind: 'apply',
    patch: { transition: 'schedule_updating', action: '', actionDetails: {} },
  });
});

test('B3/[7]: an action on a resource already UPDATE_SCHEDULED is a noop and does not compute action details', () => {
  let calls = 0;
  const resize = executor('action', {
    action: 'Resize',
    actionDetails: () => {
      calls += 1;
      return {};
    },
  });
  assert.deepEqual(preApply(resize, input('UPDATE_SCHEDULED')), { kind: 'noop' });
  assert.equal(calls, 0);
});

test('B3/[6]: an action from any state other than OK, ERRED or UPDATE_SCHEDULED fails with INVALID_STATE', () => {
  for (const state of OTHER_THAN_OK_OR_ERRED.filter((s) => s !== 'UPDATE_SCHEDULED')) assertRefused('action', state);
});

test('B1/B4: buildPlan adds the default handlers: set_ok on success, set_erred on failure', () => {
  for (const kind of ['create', 'update', 'action'] as const) {
    const plan = buildPlan(executor(kind), input('OK'));
    assert.deepEqual(plan, {
      v: PLAN_VERSION,
      executor: `vm.${kind}`,
      steps: [{ task: `vm.${kind}_backend` }],
      onSuccess: [{ task: 'jetcel.set_ok' }],
      onFailure: [{ task: 'jetcel.set_erred' }],
    });
  }
  assert.equal(PLAN_VERSION, 2);
});

test("B5/[9]: a delete executor's default success handler is jetcel.delete_resource", () => {
  const plan = buildPlan(executor('delete'), input('OK'));
  assert.deepEqual(plan.onSuccess, [{ task: BUILTIN_TASKS.deleteResource }]);
  assert.equal(plan.onSuccess[0]?.task, 'jetcel.delete_resource');
  assert.deepEqual(plan.onFailure, [{ task: 'jetcel.set_erred' }]);
});

test("B1: buildPlan uses the executor's own steps and handlers, built from the input", () => {
  const seen: unknown[] = [];
  const custom = executor('create', {
    steps: (given) => {
      seen.push(given.params);
      return [
        { task: 'vm.begin', before: { transition: 'begin_creating' } },
        { task: 'vm.create_backend', args: { flavor: given.params.flavor ?? null }, startDelayMs: 10_000 },
      ];
    },
    onSuccess: () => ({ task: 'vm.after_create' }),
    onFailure: (given) => ({ task: 'vm.compensate', args: { id: given.resource.id } }),
  });
  const plan = buildPlan(custom, input('CREATION_SCHEDULED', { flavor: 'm1.small' }));
  assert.deepEqual(plan.steps, [
    { task: 'vm.begin', before: { transition: 'begin_creating' } },
    { task: 'vm.create_backend', args: { flavor: 'm1.small' }, startDelayMs: 10_000 },
  ]);
  assert.deepEqual(plan.onSuccess, [{ task: 'vm.after_create' }]);
  assert.deepEqual(plan.onFailure, [{ task: 'vm.compensate', args: { id: 'r1' } }]);
  assert.deepEqual(seen, [{ flavor: 'm1.small' }]);
});

test('C3/[12]: a heavy executor routes every step and both handlers to the heavy queue', () => {
  const original: StepCall[] = [{ task: 'vm.begin' }, { task: 'vm.create_backend' }];
  const heavy = executor('create', { heavy: true, steps: () => original });
  const plan = buildPlan(heavy, input('CREATION_SCHEDULED'));
  assert.deepEqual(plan.steps, [
    { task: 'vm.begin', queue: 'heavy' },
    { task: 'vm.create_backend', queue: 'heavy' },
  ]);
  assert.deepEqual(plan.onSuccess, [{ task: 'jetcel.set_ok', queue: 'heavy' }]);
  assert.deepEqual(plan.onFailure, [{ task: 'jetcel.set_erred', queue: 'heavy' }]);
  // The executor's own step objects are not modified.
  assert.deepEqual(original, [{ task: 'vm.begin' }, { task: 'vm.create_backend' }]);
});

test('C3: a heavy executor keeps the queue a step or handler names itself', () => {
  const heavy = executor('delete', {
    heavy: true,
    steps: () => [{ task: 'vm.a', queue: 'background' }, { task: 'vm.b', queue: 'regular' }, { task: 'vm.c' }],
    onFailure: () => ({ task: 'vm.compensate', queue: 'regular' }),
  });
  const plan = buildPlan(heavy, input('OK'));
  assert.deepEqual(
    plan.steps.map((node) => (isGroup(node) ? 'group' : node.queue)),
    ['background', 'regular', 'heavy'],
  );
  assert.deepEqual(plan.onSuccess, [{ task: 'jetcel.delete_resource', queue: 'heavy' }]);
  assert.deepEqual(plan.onFailure, [{ task: 'vm.compensate', queue: 'regular' }]);
});

test("C3: a non-heavy executor sets no queue (each task's own queue applies)", () => {
  const plan = buildPlan(executor('update', { heavy: false }), input('OK'));
  for (const call of allCalls(plan)) assert.equal('queue' in call, false, call.task);
});

test('B8: an executor that plans no steps is rejected', () => {
  assert.throws(() => buildPlan(executor('create', { steps: () => [] }), input('CREATION_SCHEDULED')), {
    name: 'TypeError',
    message: 'Executor vm.create planned no steps',
  });
});

test('B2: an update executor without params.updatedFields is refused with VALIDATION_FAILED', () => {
  const update = executor('update');
  const withoutFields: JsonObject[] = [
    {},
    { updatedFields: null },
    { updatedFields: 'name' },
    { updatedFields: { name: 'x' } },
  ];
  for (const state of OK_OR_ERRED) {
    for (const params of withoutFields) {
      assert.throws(
        () => preApply(update, input(state, params)),
        (error: unknown) => {
          assert.ok(error instanceof ValidationError, `${state} ${JSON.stringify(params)}`);
          assert.equal(error.code, 'VALIDATION_FAILED');
          assert.match(error.message, /^vm\.update needs the changed fields \(params\.updatedFields\)/);
          return true;
        },
      );
    }
  }
});

test('B2: an update executor with an empty updatedFields array is accepted', () => {
  for (const state of OK_OR_ERRED) {
    assert.deepEqual(
      preApply(executor('update'), input(state, { updatedFields: [] })),
      { kind: 'apply', patch: { transition: 'schedule_updating' } },
      state,
    );
  }
});

test('B2: updatedFields is only required of update executors', () => {
  assert.deepEqual(preApply(executor('create'), input('CREATION_SCHEDULED')), { kind: 'apply', patch: undefined });
  assert.deepEqual(preApply(executor('delete'), input('OK')), {
    kind: 'apply',
    patch: { transition: 'schedule_deleting' },
  });
  assert.deepEqual(preApply(executor('action'), input('OK')), {
    kind: 'apply',
    patch: { transition: 'schedule_updating', action: '', actionDetails: {} },
  });
});

test("B5: a force delete's default failure handler is jetcel.delete_resource", () => {
  const plan = buildPlan(executor('delete'), input('ERRED', { force: true }));
  assert.deepEqual(plan.onFailure, [{ task: BUILTIN_TASKS.deleteResource }]);
  assert.deepEqual(plan.onSuccess, [{ task: BUILTIN_TASKS.deleteResource }]);
});

test('B5: only force === true changes the failure handler of a delete', () => {
  const notForce: JsonObject[] = [{}, { force: false }, { force: 'true' }, { force: 1 }, { force: null }];
  for (const params of notForce) {
    const plan = buildPlan(executor('delete'), input('OK', params));
    assert.deepEqual(plan.onFailure, [{ task: BUILTIN_TASKS.setErred }], JSON.stringify(params));
  }
});

test('B5: force does not change the failure handler of other executor kinds', () => {
  for (const kind of ['create', 'update', 'action'] as const) {
    const plan = buildPlan(executor(kind), input('OK', { force: true }));
    assert.deepEqual(plan.onFailure, [{ task: BUILTIN_TASKS.setErred }], kind);
  }
});

test("B5: a force delete's failure handler is routed to heavy, and an executor's own failure handler wins", () => {
  const heavy = buildPlan(executor('delete', { heavy: true }), input('OK', { force: true }));
  assert.deepEqual(heavy.onFailure, [{ task: BUILTIN_TASKS.deleteResource, queue: 'heavy' }]);
  const own = buildPlan(
    executor('delete', { onFailure: () => ({ task: 'vm.compensate' }) }),
    input('OK', { force: true }),
  );
  assert.deepEqual(own.onFailure, [{ task: 'vm.compensate' }]);
});

test('B8: buildPlan keeps a group node, with its members and policy', () => {
  const steps: PlanNode[] = [
    { task: 'vm.begin' },
    {
      group: [
        { task: 'volume.create', resource: 'volume:v1' },
        { task: 'volume.create', resource: 'volume:v2' },
      ],
      policy: 'fail_fast',
    },
    { group: [{ task: 'port.create' }], policy: 'wait_all' },
    { task: 'vm.create_backend' },
  ];
  const plan = buildPlan(executor('create', { steps: () => steps }), input('CREATION_SCHEDULED'));
  assert.deepEqual(plan.steps, steps);
  assert.deepEqual(
    plan.steps.map((node) => isGroup(node)),
    [false, true, true, false],
  );
});

test('B8/C3: a heavy executor routes group members to heavy, keeping a queue a member names itself', () => {
  const original: PlanNode[] = [
    { group: [{ task: 'volume.a' }, { task: 'volume.b', queue: 'background' }], policy: 'wait_all' },
    { task: 'vm.create_backend' },
  ];
  const plan = buildPlan(executor('create', { heavy: true, steps: () => original }), input('CREATION_SCHEDULED'));
  assert.deepEqual(plan.steps, [
    {
      group: [
        { task: 'volume.a', queue: 'heavy' },
        { task: 'volume.b', queue: 'background' },
      ],
      policy: 'wait_all',
    },
    { task: 'vm.create_backend', queue: 'heavy' },
  ]);
  // The executor's own group and step objects are not modified.
  assert.deepEqual(original, [
    { group: [{ task: 'volume.a' }, { task: 'volume.b', queue: 'background' }], policy: 'wait_all' },
    { task: 'vm.create_backend' },
  ]);
});

test('B8/C3: a non-heavy executor sets no queue on group members', () => {
  const plan = buildPlan(
    executor('create', { steps: () => [{ group: [{ task: 'a' }, { task: 'b' }], policy: 'fail_fast' }] }),
    input('CREATION_SCHEDULED'),
  );
  for (const call of allCalls(plan)) assert.equal('queue' in call, false, call.task);
});

test('B8: an executor that plans an empty group is rejected', () => {
  const empty = executor('create', {
    steps: () => [{ task: 'vm.begin' }, { group: [], policy: 'wait_all' }],
  });
  assert.throws(() => buildPlan(empty, input('CREATION_SCHEDULED')), {
    name: 'TypeError',
    message: 'Executor vm.create planned an empty group',
  });
});

test('defineExecutor returns a frozen copy', () => {
  const definition: ExecutorDefinition = {
    name: 'vm.x',
    kind: 'update',
    resourceType: 'vm',
    tasks: [],
    steps: () => [],
  };
  const defined = defineExecutor(definition);
  assert.notEqual(defined, definition);
  assert.ok(Object.isFrozen(defined));
  assert.equal(defined.name, 'vm.x');
});

test('ExecutorRegistry finds executors by name and rejects duplicates', () => {
  const create = executor('create');
  const update = executor('update');
  const registry = new ExecutorRegistry();
  assert.equal(registry.register(create, update), registry);
  assert.equal(registry.get('vm.create'), create);
  assert.equal(registry.get('vm.update'), update);
  assert.equal(registry.get('vm.delete'), undefined);
  assert.throws(() => registry.register(executor('create')), {
    name: 'TypeError',
    message: 'Executor vm.create is already registered',
  });
  assert.throws(() => new ExecutorRegistry().register(executor('delete'), executor('delete')), {
    message: 'Executor vm.delete is already registered',
  });
});
