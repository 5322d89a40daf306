import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  BUILTIN_TASKS,
  TaskRegistry,
  builtinTasks,
  defineTask,
  deleteResourceTask,
  failurePatch,
  failureSchema,
  runExecutor,
  runExecutorArgs,
  runExecutorTask,
  setErredTask,
  setOkTask,
  silentLogger,
  transitionTask,
  type FailureInfo,
  type ResourceReader,
  type ResourceSnapshot,
  type TaskContext,
  type TaskDefinition,
  type TaskOutcome,
} from '../src/index.ts';

const snapshot: ResourceSnapshot = {
  type: 'vm',
  id: 'r1',
  state: 'UPDATING',
  version: 7,
  errorMessage: '',
  errorTraceback: '',
  action: 'Resize',
  actionDetails: { flavor: 'm1.large' },
  runtimeState: 'ACTIVE',
  backendId: 'b-1',
  modifiedAt: '2026-01-01T00:00:00.000Z',
  fields: {},
};

/** A context that refuses any use of services: the built-in tasks must do no I/O. */
function fakeContext(): TaskContext<unknown> {
  const services = new Proxy(
    {},
    {
      get(_target, key) {
        throw new Error(`built-in task touched services.${String(key)}`);
      },
    },
  );
  const resources: ResourceReader = {
    get: async (ref) => {
      throw new Error(`built-in task read resource ${ref}`);
    },
    types: () => [],
    latestExecution: async (ref) => {
      throw new Error(`built-in task read the executions of ${ref}`);
    },
    find: async (type) => {
      throw new Error(`built-in task searched ${type} resources`);
    },
  };
  return {
    signal: new AbortController().signal,
    cancelSignal: new AbortController().signal,
    attempt: 1,
    pollCount: 0,
    idempotencyKey: 'exec-1:step-1',
    fencingToken: null,
    fencingSlot: null,
    heartbeat: async () => {
      throw new Error('built-in task heartbeated');
    },
    log: silentLogger,
    actor: 'alice',
    executionId: 'exec-1',
    stepId: 'step-1',
    resource: snapshot,
    resources,
    services,
  };
}

async function runTask<A>(task: TaskDefinition<A>, rawArgs: unknown): Promise<TaskOutcome | void> {
  return task.run(fakeContext(), task.parseArgs(rawArgs));
}

test('the seven built-in tasks, their names, regular queue and no retries', () => {
  assert.deepEqual(BUILTIN_TASKS, {
    transition: 'jetcel.transition',
    setOk: 'jetcel.set_ok',
    setErred: 'jetcel.set_erred',
    deleteResource: 'jetcel.delete_resource',
    runExecutor: 'jetcel.run_executor',
  });
  assert.deepEqual(
    builtinTasks.map((t) => t.name),
    [
      'jetcel.transition',
      'jetcel.set_ok',
      'jetcel.set_erred',
      'jetcel.delete_resource',
      'jetcel.run_executor',
      'jetcel.wait_not_busy',
      'jetcel.cleanup_related',
    ],
  );
  for (const task of builtinTasks) {
    assert.equal(task.queue, 'regular', task.name);
    assert.equal(task.retry.maxAttempts, 1, task.name);
    assert.equal(task.version, 1, task.name);
  }
  assert.deepEqual(new TaskRegistry().register(...builtinTasks).names(), [
    'jetcel.cleanup_related',
    'jetcel.delete_resource',
    'jetcel.run_executor',
    'jetcel.set_erred',
    'jetcel.set_ok',
    'jetcel.transition',
    'jetcel.wait_not_busy',
  ]);
});

test('B1/B4/[2]: set_ok moves to OK and clears action and action_details', async () => {
  const outcome = await runTask(setOkTask, null);
  assert.ok(outcome);
  assert.equal(outcome.kind, 'done');
  assert.deepEqual(outcome.patch, { transition: 'set_ok', action: '', actionDetails: {} });
  assert.equal(outcome.result, undefined);
});

test('B1/A2/[3]: set_erred writes the failure message and traceback and clears the action', async () => {
  const outcome = await runTask(setErredTask, {
    failure: { message: 'Flavor is not available', traceback: 'BackendError: HTTP 409\n    at create' },
  });
  assert.ok(outcome);
  assert.equal(outcome.kind, 'done');
  assert.deepEqual(outcome.patch, {
    transition: 'set_erred',
    errorMessage: 'Flavor is not available',
    errorTraceback: 'BackendError: HTTP 409\n    at create',
    action: '',
    actionDetails: {},
  });
});

test('B1: set_erred keeps the failure when other arguments travel with it', async () => {
  const outcome = await runTask(setErredTask, { force: true, failure: { message: 'boom', traceback: 'Error: boom' } });
  assert.ok(outcome);
  assert.equal(outcome.patch?.errorMessage, 'boom');
  assert.equal(outcome.patch?.errorTraceback, 'Error: boom');
});

test('B1: set_erred without a failure still sets both error fields', async () => {
  const outcome = await runTask(setErredTask, {});
  assert.ok(outcome);
  assert.deepEqual(outcome.patch, {
    transition: 'set_erred',
    errorMessage: 'Unknown failure',
    errorTraceback: '',
    action: '',
    actionDetails: {},
  });
});

test('B1: set_erred rejects a malformed failure argument', () => {
  assert.throws(() => setErredTask.parseArgs({ failure: { message: 42, traceback: '' } }));
  assert.throws(() => setErredTask.parseArgs({ failure: { message: 'no traceback' } }));
});

test('C4/[20]: transition applies the named transition and leaves the action fields alone when not given', async () => {
  const outcome = await runTask(transitionTask, { transition: 'begin_creating' });
  assert.ok(outcome);
  assert.equal(outcome.kind, 'done');
  assert.deepEqual(outcome.patch, { transition: 'begin_creating' });
});

test('C4/[20]: transition passes action and action_details through when given', async () => {
  const outcome = await runTask(transitionTask, {
    transition: 'begin_updating',
    action: 'Extend',
    actionDetails: { message: 'Extend volume', old_size: 10, new_size: 20, tags: ['a'], extra: null },
  });
  assert.ok(outcome);
  assert.deepEqual(outcome.patch, {
    transition: 'begin_updating',
    action: 'Extend',
    actionDetails: { message: 'Extend volume', old_size: 10, new_size: 20, tags: ['a'], extra: null },
  });
  const cleared = await runTask(transitionTask, { transition: 'set_ok', action: '', actionDetails: {} });
  assert.ok(cleared);
  assert.deepEqual(cleared.patch, { transition: 'set_ok', action: '', actionDetails: {} });
});

test('C4/[20]: transition rejects an unknown transition name through its args parser', () => {
  for (const transition of ['explode', 'toString', 'SET_OK', '']) {
    assert.throws(() => transitionTask.parseArgs({ transition }), /unknown transition/, transition);
  }
  assert.throws(() => transitionTask.parseArgs({}));
  assert.throws(() => transitionTask.parseArgs({ transition: 'set_ok', action: 5 }));
  assert.throws(() => transitionTask.parseArgs({ transition: 'set_ok', actionDetails: 'x' }));
});

test('C4: every known transition name is accepted by the args parser', () => {
  for (const transition of [
    'begin_creating',
    'begin_updating',
    'begin_deleting',
    'schedule_updating',
    'schedule_deleting',
    'set_ok',
    'set_erred',
    'recover',
  ]) {
    assert.deepEqual(transitionTask.parseArgs({ transition }), { transition });
  }
});

test('B5/[9]: delete_resource asks for the row to be deleted', async () => {
  const outcome = await runTask(deleteResourceTask, null);
  assert.ok(outcome);
  assert.equal(outcome.kind, 'done');
  assert.deepEqual(outcome.patch, { delete: true });
});

test('C4/[20]: transition treats null action fields as not given', async () => {
  const outcome = await runTask(transitionTask, { transition: 'begin_updating', action: null, actionDetails: null });
  assert.ok(outcome);
  assert.deepEqual(outcome.patch, { transition: 'begin_updating' });
});

test('B9: every built-in task declares sideEffects: false, unlike a user task by default', () => {
  for (const task of builtinTasks) assert.equal(task.sideEffects, false, task.name);
  assert.deepEqual(
    [transitionTask, setOkTask, setErredTask, deleteResourceTask, runExecutorTask].map((t) => t.sideEffects),
    [false, false, false, false, false],
  );
  assert.equal(defineTask({ name: 'vm.create_backend', run: async () => {} }).sideEffects, true);
});

const previousOf = (state: string, errorMessage = '', errorTraceback = '') => ({ state, errorMessage, errorTraceback });

test('B1/A2: failurePatch of a plain failure: ERRED with its message and traceback, action cleared', () => {
  const failure: FailureInfo = { message: 'Quota exceeded', traceback: 'BackendError: 413', errorName: 'BackendError' };
  assert.deepEqual(failurePatch(failure), {
    transition: 'set_erred',
    errorMessage: 'Quota exceeded',
    errorTraceback: 'BackendError: 413',
    action: '',
    actionDetails: {},
  });
  assert.deepEqual(failurePatch(undefined), {
    transition: 'set_erred',
    errorMessage: 'Unknown failure',
    errorTraceback: '',
    action: '',
    actionDetails: {},
  });
});

test('B9: failurePatch of a cancel with no backend effect from CREATION_SCHEDULED deletes the row', () => {
  const failure: FailureInfo = {
    message: 'cancelled',
    traceback: '',
    errorName: 'Cancelled',
    cancelled: { backendEffectStarted: false, previous: previousOf('CREATION_SCHEDULED') },
  };
  assert.deepEqual(failurePatch(failure), { delete: true });
});

test('B9: failurePatch of a cancel with no backend effect from OK or ERRED restores the previous state and error', () => {
  const ok: FailureInfo = {
    message: 'cancelled',
    traceback: '',
    errorName: 'Cancelled',
    cancelled: { backendEffectStarted: false, previous: previousOf('OK') },
  };
  assert.deepEqual(failurePatch(ok), {
    restore: { state: 'OK', errorMessage: '', errorTraceback: '' },
    action: '',
    actionDetails: {},
  });
  const erred: FailureInfo = {
    ...ok,
    cancelled: {
      backendEffectStarted: false,
      previous: previousOf('ERRED', 'Flavor is not available', 'BackendError: HTTP 409\n    at create'),
    },
  };
  assert.deepEqual(failurePatch(erred), {
    restore: {
      state: 'ERRED',
      errorMessage: 'Flavor is not available',
      errorTraceback: 'BackendError: HTTP 409\n    at create',
    },
    action: '',
    actionDetails: {},
  });
});

test('B9: failurePatch of a cancel after a backend effect: ERRED "cancelled", whatever the previous state', () => {
  for (const state of ['CREATION_SCHEDULED', 'OK', 'ERRED']) {
    const failure: FailureInfo = {
      message: 'Execution was cancelled',
      traceback: 'trace',
      errorName: 'Cancelled',
      cancelled: { backendEffectStarted: true, previous: previousOf(state, 'old error', 'old trace') },
    };
    assert.deepEqual(
      failurePatch(failure),
      { transition: 'set_erred', errorMessage: 'cancelled', errorTraceback: 'trace', action: '', actionDetails: {} },
      state,
    );
  }
});

test('E5: a cancel that finds its resource already ERRED with a message (a watchdog) keeps that error', () => {
  for (const backendEffectStarted of [true, false]) {
    const failure: FailureInfo = {
      message: 'cancelled',
      traceback: '',
      errorName: 'Cancelled',
      cancelled: { backendEffectStarted, previous: previousOf('CREATION_SCHEDULED') },
    };
    const timedOut = { state: 'ERRED', errorMessage: 'Provisioning has timed out.' } as const;
    assert.deepEqual(failurePatch(failure, timedOut), { action: '', actionDetails: {} });
    assert.notDeepEqual(failurePatch(failure, { state: 'CREATING', errorMessage: '' }), {
      action: '',
      actionDetails: {},
    });
  }
  const plain: FailureInfo = { message: 'boom', traceback: 't', errorName: 'Error' };
  assert.equal(failurePatch(plain, { state: 'ERRED', errorMessage: 'old' }).errorMessage, 'boom', 'only cancels');
});

test('B9: set_erred applies failurePatch to the cancel details it is given', async () => {
  const create = await runTask(setErredTask, {
    failure: {
      message: 'cancelled',
      traceback: '',
      cancelled: { backendEffectStarted: false, previous: previousOf('CREATION_SCHEDULED') },
    },
  });
  assert.ok(create);
  assert.deepEqual(create.patch, { delete: true });
  const update = await runTask(setErredTask, {
    failure: {
      message: 'cancelled',
      traceback: '',
      cancelled: { backendEffectStarted: false, previous: previousOf('ERRED', 'boom', 'Error: boom') },
    },
  });
  assert.ok(update);
  assert.deepEqual(update.patch, {
    restore: { state: 'ERRED', errorMessage: 'boom', errorTraceback: 'Error: boom' },
    action: '',
    actionDetails: {},
  });
});

test('B9: set_erred rejects cancel details with an unknown previous state or without backendEffectStarted', () => {
  const cancelled = (value: unknown) => ({ failure: { message: 'cancelled', traceback: '', cancelled: value } });
  assert.throws(() => setErredTask.parseArgs(cancelled({ backendEffectStarted: false, previous: previousOf('GONE') })));
  assert.throws(() => setErredTask.parseArgs(cancelled({ previous: previousOf('OK') })));
  assert.throws(() => setErredTask.parseArgs(cancelled({ backendEffectStarted: false, previous: { state: 'OK' } })));
  assert.ok(failureSchema.parse({ message: 'm', traceback: 't' }));
});

test('B7: runExecutor builds a jetcel.run_executor step call for the named executor and resource', () => {
  assert.deepEqual(runExecutor('volume.delete', 'volume:v1'), {
    task: 'jetcel.run_executor',
    resource: 'volume:v1',
    args: { executor: 'volume.delete', params: {} },
  });
  assert.deepEqual(
    runExecutor('volume.extend', 'volume:v2', { size: 20 }, { ignoreErrors: true, startDelayMs: 500, queue: 'heavy' }),
    {
      task: BUILTIN_TASKS.runExecutor,
      resource: 'volume:v2',
      args: { executor: 'volume.extend', params: { size: 20 } },
      ignoreErrors: true,
      startDelayMs: 500,
      queue: 'heavy',
    },
  );
});

test("B7: runExecutor's arguments are what run_executor's args parser accepts", () => {
  const call = runExecutor('volume.extend', 'volume:v2', { size: 20 });
  assert.deepEqual(runExecutorTask.parseArgs(call.args), { executor: 'volume.extend', params: { size: 20 } });
  assert.deepEqual(runExecutorArgs.parse({ executor: 'volume.delete' }), { executor: 'volume.delete', params: {} });
  assert.throws(() => runExecutorTask.parseArgs({ executor: '' }));
  assert.throws(() => runExecutorTask.parseArgs({ params: {} }));
});

test('B7: run_executor refuses to run as a task (the runtime handles it)', async () => {
  await assert.rejects(runTask(runExecutorTask, { executor: 'volume.delete', params: {} }), {
    message: 'jetcel.run_executor is run by the runtime, not as a task',
  });
});
