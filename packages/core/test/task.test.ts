import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  DEFAULT_RETRY,
  Task,
  TaskRegistry,
  defineTask,
  done,
  equalityPredicate,
  sameNameResourceAndArgs,
  pollAgain,
  silentLogger,
  taskFromClass,
  type ArgsParser,
  type Json,
  type RelatedPatch,
  type ResourceReader,
  type ResourceSnapshot,
  type TaskContext,
  type TaskOptions,
  type TaskOutcome,
} from '../src/index.ts';

const noop = async (): Promise<void> => {};

const noResources: ResourceReader = {
  get: async () => null,
  find: async () => [],
  types: () => [],
  latestExecution: async () => null,
};

function fakeContext(): TaskContext<unknown> {
  return {
    signal: new AbortController().signal,
    cancelSignal: new AbortController().signal,
    attempt: 1,
    pollCount: 0,
    idempotencyKey: 'exec:step',
    fencingToken: null,
    fencingSlot: null,
    heartbeat: async () => {},
    log: silentLogger,
    actor: null,
    executionId: null,
    stepId: null,
    resource: null,
    resources: noResources,
    services: {},
  };
}

/** A tiny zod-like parser: doubles `n`, refuses anything without a numeric `n`. */
const doublingParser: ArgsParser<{ n: number }> = {
  parse(value: unknown): { n: number } {
    if (typeof value !== 'object' || value === null || typeof (value as { n?: unknown }).n !== 'number') {
      throw new TypeError('n must be a number');
    }
    return { n: (value as { n: number }).n * 2 };
  },
};

test('C1: defineTask defaults: queue regular, version 1, default retry, no timeout, no start delay, 5 s × 1200 polls', () => {
  const definition = defineTask({ name: 'demo.defaults', run: noop });
  assert.equal(definition.name, 'demo.defaults');
  assert.equal(definition.version, 1);
  assert.equal(definition.queue, 'regular');
  assert.deepEqual(definition.retry, DEFAULT_RETRY);
  assert.deepEqual(definition.retry, {
    maxAttempts: 3,
    initialDelayMs: 1000,
    maxDelayMs: 60_000,
    multiplier: 2,
    jitter: 0.2,
  });
  assert.equal(definition.timeoutMs, undefined);
  assert.equal(definition.startDelayMs, 0);
  assert.equal(definition.pollIntervalMs, 5000);
  assert.equal(definition.maxPolls, 1200);
  assert.equal(definition.sideEffects, true);
  assert.ok(Object.isFrozen(definition));
});

test('C1: defineTask keeps every given option and merges a partial retry policy over the defaults', () => {
  const definition = defineTask({
    name: 'demo.options',
    version: 3,
    queue: 'heavy',
    retry: { maxAttempts: 7, jitter: 0 },
    timeoutMs: 30_000,
    startDelayMs: 10_000,
    pollIntervalMs: 250,
    maxPolls: 40,
    sideEffects: false,
    run: noop,
  });
  assert.equal(definition.version, 3);
  assert.equal(definition.queue, 'heavy');
  assert.deepEqual(definition.retry, {
    maxAttempts: 7,
    initialDelayMs: 1000,
    maxDelayMs: 60_000,
    multiplier: 2,
    jitter: 0,
  });
  assert.equal(definition.timeoutMs, 30_000);
  assert.equal(definition.startDelayMs, 10_000);
  assert.equal(definition.pollIntervalMs, 250);
  assert.equal(definition.maxPolls, 40);
  assert.equal(definition.sideEffects, false);
  assert.equal(defineTask({ name: 'demo.bg', queue: 'background', run: noop }).queue, 'background');
});

test('C1: a partial retry policy does not modify DEFAULT_RETRY', () => {
  const before = { ...DEFAULT_RETRY };
  defineTask({ name: 'demo.retry', retry: { maxAttempts: 9 }, run: noop });
  assert.deepEqual(DEFAULT_RETRY, before);
});

test('C1: invalid task names are rejected with a TypeError naming them', () => {
  for (const name of ['', '1task', '.leading', '-dash', '_under', 'has space', 'a/b', 'a:b', 'tâche', 'a*', 'a>']) {
    assert.throws(
      () => defineTask({ name, run: noop }),
      { name: 'TypeError', message: `Invalid task name "${name}"` },
      name,
    );
  }
});

test('C1: valid task names: letters first, then letters, digits, "_", "." and "-"', () => {
  for (const name of ['a', 'Z', 'jetcel.set_ok', 'openstack.create-instance', 'v2.Task_9']) {
    assert.equal(defineTask({ name, run: noop }).name, name);
  }
});

test('C1: the args parser is applied by parseArgs, and its error propagates', () => {
  const definition = defineTask({ name: 'demo.args', args: doublingParser, run: noop });
  assert.deepEqual(definition.parseArgs({ n: 21 }), { n: 42 });
  assert.throws(() => definition.parseArgs({ n: 'x' }), { name: 'TypeError', message: 'n must be a number' });
  assert.throws(() => definition.parseArgs(null), { message: 'n must be a number' });
});

test('C1: without an args parser, parseArgs hands the raw value through unchanged', () => {
  const definition = defineTask({ name: 'demo.raw', run: noop });
  const raw = { anything: [1, 2, 3] };
  assert.equal(definition.parseArgs(raw), raw);
  assert.equal(definition.parseArgs(null), null);
});

test('C1: a function-style task runs its own run() with the context and arguments', async () => {
  const seen: unknown[] = [];
  const definition = defineTask<{ n: number }>({
    name: 'demo.run',
    args: doublingParser,
    async run(ctx, args) {
      seen.push(ctx.idempotencyKey, args.n);
      return done({ runtimeState: 'ACTIVE' }, args.n);
    },
  });
  const outcome = await definition.run(fakeContext(), definition.parseArgs({ n: 2 }));
  assert.deepEqual(seen, ['exec:step', 4]);
  assert.deepEqual(outcome, { kind: 'done', patch: { runtimeState: 'ACTIVE' }, result: 4 });
});

test('C5: done() and pollAgain() build the two outcome kinds', () => {
  const finished: TaskOutcome = done({ backendId: 'b-1' }, { id: 'b-1' });
  assert.equal(finished.kind, 'done');
  assert.deepEqual(finished.patch, { backendId: 'b-1' });
  assert.deepEqual(finished.result, { id: 'b-1' });
  const again: TaskOutcome = pollAgain(750, { runtimeState: 'BUILD' });
  assert.equal(again.kind, 'poll');
  assert.equal(again.afterMs, 750);
  assert.deepEqual(again.patch, { runtimeState: 'BUILD' });
  const plain = pollAgain();
  assert.equal(plain.kind, 'poll');
  assert.equal(plain.afterMs, undefined);
});

class ScaleTask extends Task<{ n: number }> {
  static override options: TaskOptions = {
    name: 'demo.scale',
    queue: 'background',
    version: 2,
    maxPolls: 5,
    args: doublingParser,
  };
  readonly factor = 10;
  async run(_ctx: TaskContext, args: { n: number }): Promise<TaskOutcome> {
    return done(undefined, args.n * this.factor);
  }
}

class PlainClassTask extends Task {
  static override options: TaskOptions = { name: 'demo.plain_class' };
  async run(): Promise<void> {}
}

test('C1: a class-style task (Task + static options) becomes a definition with the same defaults', async () => {
  const definition = taskFromClass(ScaleTask);
  assert.equal(definition.name, 'demo.scale');
  assert.equal(definition.queue, 'background');
  assert.equal(definition.version, 2);
  assert.equal(definition.maxPolls, 5);
  assert.equal(definition.pollIntervalMs, 5000);
  assert.deepEqual(definition.retry, DEFAULT_RETRY);
  assert.deepEqual(definition.parseArgs({ n: 3 }), { n: 6 });
  // run() is called on an instance, so `this` works.
  assert.deepEqual(await definition.run(fakeContext(), { n: 6 }), { kind: 'done', patch: undefined, result: 60 });

  const plain = taskFromClass(PlainClassTask);
  assert.equal(plain.queue, 'regular');
  assert.equal(plain.version, 1);
  assert.equal(plain.maxPolls, 1200);
  assert.equal(plain.sideEffects, true);
});

test('C1: a class-style task with an invalid name is rejected like a function-style one', () => {
  class BadName extends Task {
    static override options: TaskOptions = { name: 'bad name' };
    async run(): Promise<void> {}
  }
  assert.throws(() => taskFromClass(BadName), { name: 'TypeError', message: 'Invalid task name "bad name"' });
});

test('C1: TaskRegistry registers both styles by name, and get() returns a definition for each', async () => {
  const fn = defineTask({ name: 'demo.fn', run: noop });
  const registry = new TaskRegistry();
  const returned = registry.register(fn, ScaleTask);
  assert.equal(returned, registry);
  assert.equal(registry.get('demo.fn'), fn);
  const fromClass = registry.get('demo.scale');
  assert.ok(fromClass);
  assert.equal(fromClass.name, 'demo.scale');
  assert.equal(fromClass.queue, 'background');
  assert.deepEqual(await fromClass.run(fakeContext(), { n: 1 }), { kind: 'done', patch: undefined, result: 10 });
  assert.equal(registry.get('demo.missing'), undefined);
});

test('C1: TaskRegistry rejects a duplicate name, whichever style registers it', () => {
  const registry = new TaskRegistry().register(defineTask({ name: 'demo.scale', run: noop }));
  assert.throws(() => registry.register(ScaleTask), {
    name: 'TypeError',
    message: 'Task demo.scale is already registered',
  });
  assert.throws(() => registry.register(defineTask({ name: 'demo.scale', run: noop })), {
    message: 'Task demo.scale is already registered',
  });
  const other = new TaskRegistry();
  assert.throws(
    () => other.register(defineTask({ name: 'x.dup', run: noop }), defineTask({ name: 'x.dup', run: noop })),
    {
      message: 'Task x.dup is already registered',
    },
  );
});

test('C1: TaskRegistry.names() is sorted', () => {
  const registry = new TaskRegistry().register(
    defineTask({ name: 'c.third', run: noop }),
    defineTask({ name: 'a.first', run: noop }),
    ScaleTask,
    defineTask({ name: 'b.second', run: noop }),
  );
  assert.deepEqual(registry.names(), ['a.first', 'b.second', 'c.third', 'demo.scale']);
  assert.deepEqual(new TaskRegistry().names(), []);
});

test('C1: a retry field given as undefined keeps its default', () => {
  const definition = defineTask({ name: 'demo.undef_retry', retry: { maxAttempts: undefined }, run: noop });
  assert.equal(definition.retry.maxAttempts, 3);
});

test('C1: a batch with a duplicate registers nothing', () => {
  const registry = new TaskRegistry();
  const a = defineTask({ name: 'demo.batch_a', run: noop });
  const b = defineTask({ name: 'demo.batch_b', run: noop });
  assert.throws(() => registry.register(a, b, a), /demo\.batch_a is already registered/);
  assert.deepEqual(registry.names(), []);
});

test('B9: a user task has sideEffects by default; explicit true or false is kept, undefined keeps the default', () => {
  assert.equal(defineTask({ name: 'demo.effects', run: noop }).sideEffects, true);
  assert.equal(defineTask({ name: 'demo.effects_on', sideEffects: true, run: noop }).sideEffects, true);
  assert.equal(defineTask({ name: 'demo.effects_off', sideEffects: false, run: noop }).sideEffects, false);
  assert.equal(defineTask({ name: 'demo.effects_undef', sideEffects: undefined, run: noop }).sideEffects, true);
  class ReadOnly extends Task {
    static override options: TaskOptions = { name: 'demo.read_only', sideEffects: false };
    async run(): Promise<void> {}
  }
  assert.equal(taskFromClass(ReadOnly).sideEffects, false);
});

test('done() carries related patches only when given', () => {
  const also: RelatedPatch[] = [
    { ref: 'volume:v1', version: 3, patch: { transition: 'set_erred', errorMessage: 'x' } },
  ];
  assert.deepEqual(done({ transition: 'set_erred' }, undefined, also), {
    kind: 'done',
    patch: { transition: 'set_erred' },
    result: undefined,
    also,
  });
  assert.equal('also' in done({ transition: 'set_ok' }), false);
  assert.equal('also' in done(), false);
});

test('B9: a task sees the cancel signal and a resource reader on its context', async () => {
  const cancel = new AbortController();
  const volume: ResourceSnapshot = {
    type: 'volume',
    id: 'v1',
    state: 'OK',
    version: 2,
    errorMessage: '',
    errorTraceback: '',
    action: '',
    actionDetails: {},
    runtimeState: '',
    backendId: 'b-v1',
    modifiedAt: '2026-01-01T00:00:00.000Z',
    fields: { instanceId: 'i1' },
  };
  const seen: unknown[] = [];
  const resources: ResourceReader = {
    get: async (ref) => (ref === 'volume:v1' ? volume : null),
    types: () => ['volume'],
    latestExecution: async () => null,
    find: async (type, where) => {
      seen.push([type, where]);
      return [volume];
    },
  };
  const definition = defineTask({
    name: 'demo.compensate',
    async run(ctx) {
      const found = await ctx.resources.find('volume', { instanceId: 'i1' });
      const missing = await ctx.resources.get('volume:v2');
      return done(undefined, { aborted: ctx.cancelSignal.aborted, found: found.length, missing: missing === null });
    },
  });
  cancel.abort();
  const outcome = await definition.run({ ...fakeContext(), cancelSignal: cancel.signal, resources }, undefined);
  assert.deepEqual(outcome, { kind: 'done', patch: undefined, result: { aborted: true, found: 1, missing: true } });
  assert.deepEqual(seen, [['volume', { instanceId: 'i1' }]]);
});

test('background equality: the three modes are shorthands of predicates over name, resource and args', () => {
  const run = (resource: string | null, args: Json = {}) => ({ name: 'pull', resource, args });
  const byName = equalityPredicate('name');
  assert.equal(byName(run('vm:1'), run('vm:2')), true);
  assert.equal(byName(run('vm:1'), { ...run('vm:1'), name: 'other' }), false);
  const byResource = equalityPredicate('resource');
  assert.equal(byResource(run('vm:1'), run('vm:1', { a: 1 })), true);
  assert.equal(byResource(run('vm:1'), run('vm:2')), false);
  assert.equal(equalityPredicate('none')(run('vm:1'), run('vm:1')), false);
  assert.equal(sameNameResourceAndArgs(run('vm:1', { a: [1] }), run('vm:1', { a: [1] })), true);
  assert.equal(sameNameResourceAndArgs(run('vm:1', { a: [1] }), run('vm:1', { a: [2] })), false);
  const custom = (): boolean => true;
  assert.equal(equalityPredicate(custom), custom);
  assert.equal(defineTask({ name: 'p', equality: custom, run: async () => {} }).equality, custom);
  assert.equal(defineTask({ name: 'q', run: async () => {} }).equality, 'name');
});
