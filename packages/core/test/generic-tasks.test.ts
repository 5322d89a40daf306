import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  BackendError,
  PollLimitError,
  defineBackendTasks,
  definePollRuntimeStateTask,
  judgeRuntimeState,
  silentLogger,
  waitNotBusyTask,
  waitUntilNotBusy,
  type BackendCall,
  type BackendReading,
  type ResourcePatch,
  type ResourceSnapshot,
  type TaskContext,
} from '../src/index.ts';

const snapshot: ResourceSnapshot = {
  type: 'vm',
  id: 'r1',
  state: 'CREATING',
  version: 3,
  errorMessage: '',
  errorTraceback: '',
  action: '',
  actionDetails: {},
  runtimeState: 'BUILD',
  backendId: 'b-1',
  modifiedAt: '2026-01-01T00:00:00.000Z',
  fields: {},
};

function context<S>(services: S, others: Record<string, ResourceSnapshot> = {}, pollCount = 0): TaskContext<S> {
  return {
    signal: new AbortController().signal,
    cancelSignal: new AbortController().signal,
    attempt: 1,
    pollCount,
    idempotencyKey: 'exec-1:step-1',
    fencingToken: '7',
    fencingSlot: 'slot-1',
    heartbeat: async () => {},
    log: silentLogger,
    actor: null,
    executionId: 'exec-1',
    stepId: 'step-1',
    resource: snapshot,
    resources: {
      get: async (ref) => others[ref] ?? null,
      find: async () => [],
      types: () => [],
      latestExecution: async () => null,
    },
    services,
  };
}

test('judgeRuntimeState: success, erred, deleted and pending, recording a changed runtime state', () => {
  const rule = { success: ['ACTIVE'], erred: ['ERROR'] };
  assert.deepEqual(judgeRuntimeState({ state: 'ACTIVE' }, 'BUILD', rule), {
    kind: 'success',
    patch: { runtimeState: 'ACTIVE' },
  });
  assert.deepEqual(judgeRuntimeState({ state: 'BUILD' }, 'BUILD', rule), { kind: 'pending', patch: undefined });
  assert.deepEqual(judgeRuntimeState({ state: 'ERROR', fault: 'no host' }, 'BUILD', rule), {
    kind: 'erred',
    state: 'ERROR',
    fault: 'no host',
  });
  assert.deepEqual(judgeRuntimeState(null, 'BUILD', rule), { kind: 'deleted', outcome: 'delete' });
  assert.deepEqual(judgeRuntimeState(null, 'BUILD', { ...rule, deleted: 'done' }), {
    kind: 'deleted',
    outcome: 'done',
  });
});

/** A fake backend: what the generic tasks call by name. */
class FakeBackend {
  readonly calls: BackendCall<unknown>[] = [];
  states: (BackendReading | null)[] = [];
  async rename(call: BackendCall<{ name: string }>): Promise<ResourcePatch> {
    this.calls.push(call);
    return { fields: { name: call.args.name } };
  }
  async pull(call: BackendCall): Promise<void> {
    this.calls.push(call);
  }
  async server(): Promise<BackendReading | null> {
    return this.states.shift() ?? null;
  }
}

const backendTasks = defineBackendTasks({
  prefix: 'vm',
  backend: (services: { backend: FakeBackend }) => services.backend,
  noun: 'Server',
});

test('backend call: a typed step names the method; the task calls it with the resource and records its patch', async () => {
  const call = backendTasks.call('rename', { name: 'web-2' }, { startDelayMs: 5 });
  assert.deepEqual(call, {
    startDelayMs: 5,
    task: 'vm.backend_call',
    args: { method: 'rename', args: { name: 'web-2' } },
  });
  const backend = new FakeBackend();
  const outcome = await backendTasks.callTask.run(context({ backend }), backendTasks.callTask.parseArgs(call.args));
  assert.deepEqual(outcome, { kind: 'done', patch: { fields: { name: 'web-2' } }, result: undefined });
  assert.equal(backend.calls[0]?.resource, snapshot);
  assert.equal(backend.calls[0]?.idempotencyKey, 'exec-1:step-1');
  assert.equal(backend.calls[0]?.fencingToken, '7');
  const pulled = await backendTasks.callTask.run(
    context({ backend }),
    backendTasks.callTask.parseArgs(backendTasks.call('pull', undefined).args),
  );
  assert.deepEqual(pulled, { kind: 'done', patch: undefined, result: undefined });
  await assert.rejects(
    backendTasks.callTask.run(context({ backend }), { method: 'missing' }),
    /the backend has no method missing/,
  );
});

test('backend poll: pending polls at the step interval, erred fails with the fault, gone deletes by default', async () => {
  const backend = new FakeBackend();
  const step = backendTasks.pollRuntimeState('server', {
    success: ['ACTIVE'],
    erred: ['ERROR'],
    intervalMs: 50,
    maxPolls: 3,
  });
  assert.deepEqual(step.args, { getter: 'server', success: ['ACTIVE'], erred: ['ERROR'], intervalMs: 50, maxPolls: 3 });
  const args = backendTasks.pollTask.parseArgs(step.args);
  backend.states = [
    { state: 'BUILD' },
    { state: 'ACTIVE' },
    { state: 'ERROR', fault: 'No valid host' },
    { state: 'BUILD' },
  ];
  assert.deepEqual(await backendTasks.pollTask.run(context({ backend }), args), {
    kind: 'poll',
    afterMs: 50,
    patch: undefined,
  });
  assert.deepEqual(await backendTasks.pollTask.run(context({ backend }), args), {
    kind: 'done',
    patch: { runtimeState: 'ACTIVE' },
    result: undefined,
  });
  await assert.rejects(
    backendTasks.pollTask.run(context({ backend }), args),
    (error: unknown) => error instanceof BackendError && error.userMessage === 'No valid host',
  );
  await assert.rejects(backendTasks.pollTask.run(context({ backend }, {}, 2), args), PollLimitError);
  assert.deepEqual(await backendTasks.pollTask.run(context({ backend }), args), {
    kind: 'done',
    patch: { delete: true },
    result: undefined,
  });
  const erredWhenGone = backendTasks.pollTask.parseArgs({ ...args, deleted: 'erred' });
  await assert.rejects(backendTasks.pollTask.run(context({ backend }), erredWhenGone), /gone from the backend/);
});

test('definePollRuntimeStateTask: a success predicate over the object and the fields recorded on arrival', async () => {
  const task = definePollRuntimeStateTask<{ size: number }, null, { size: number }>({
    name: 'volume.poll',
    noun: 'Volume',
    read: async () => ({ state: 'available', object: { size: 10 } }),
    rule: (args) => ({
      success: (reading) => reading.object?.size === args.size,
      erred: ['error'],
      onSuccess: (reading) => ({ fields: { size: reading.object?.size ?? 0 } }),
    }),
    pollIntervalMs: 20,
  });
  assert.equal(task.sideEffects, false);
  assert.deepEqual(await task.run(context(null), { size: 20 }), {
    kind: 'poll',
    afterMs: undefined,
    patch: { runtimeState: 'available' },
  });
  assert.deepEqual(await task.run(context(null), { size: 10 }), {
    kind: 'done',
    patch: { runtimeState: 'available', fields: { size: 10 } },
    result: undefined,
  });
});

test('wait until not busy: polls while the other resource is *_SCHEDULED or *ING, done once free or gone', async () => {
  const step = waitUntilNotBusy('volume:v1', { intervalMs: 100 });
  assert.deepEqual(step, { task: 'jetcel.wait_not_busy', args: { ref: 'volume:v1', intervalMs: 100 } });
  const args = waitNotBusyTask.parseArgs(step.args);
  const busy = { ...snapshot, type: 'volume', id: 'v1', state: 'UPDATING' as const };
  assert.deepEqual(await waitNotBusyTask.run(context(null, { 'volume:v1': busy }), args), {
    kind: 'poll',
    afterMs: 100,
    patch: undefined,
  });
  const free = { ...busy, state: 'ERRED' as const };
  assert.equal((await waitNotBusyTask.run(context(null, { 'volume:v1': free }), args))?.kind, 'done');
  assert.equal((await waitNotBusyTask.run(context(null), args))?.kind, 'done');
  const onlyDeleting = waitNotBusyTask.parseArgs(
    waitUntilNotBusy('volume:v1', { busy: ['DELETING'], maxPolls: 1 }).args,
  );
  assert.equal((await waitNotBusyTask.run(context(null, { 'volume:v1': busy }), onlyDeleting))?.kind, 'done');
  const deleting = { ...busy, state: 'DELETING' as const };
  await assert.rejects(waitNotBusyTask.run(context(null, { 'volume:v1': deleting }), onlyDeleting), PollLimitError);
  assert.throws(() => waitNotBusyTask.parseArgs({ ref: 'v1' }));
});
