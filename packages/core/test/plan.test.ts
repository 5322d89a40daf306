import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  PLAN_VERSION,
  continueAfterFailure,
  continueAfterSuccess,
  type Continuation,
  type Plan,
  type StepCall,
  type StepRole,
} from '../src/index.ts';

const step = (task: string, extra: Partial<StepCall> = {}): StepCall => ({ task, ...extra });

function makePlan(steps: StepCall[]): Plan {
  return {
    v: PLAN_VERSION,
    executor: 'vm.create',
    steps,
    onSuccess: step('jetcel.set_ok'),
    onFailure: step('jetcel.set_erred'),
  };
}

const chain = makePlan([step('vm.begin'), step('vm.create_backend'), step('vm.poll')]);

/**
 * Drives a plan through the continuations as the runtime does, with `fails` naming the tasks that
 * fail for good. Returns the tasks that ran, in order, and how the execution finished.
 */
function drive(plan: Plan, fails: ReadonlySet<string>): { ran: string[]; status: 'succeeded' | 'failed' } {
  const ran: string[] = [];
  let role: StepRole = 'main';
  let position = 0;
  let call: StepCall = plan.steps[0]!;
  for (let guard = 0; guard < 100; guard += 1) {
    ran.push(call.task);
    const next: Continuation = fails.has(call.task)
      ? continueAfterFailure(plan, role, position)
      : continueAfterSuccess(plan, role, position);
    if (next.kind === 'finish') return { ran, status: next.status };
    if (next.kind === 'queue_step') {
      role = 'main';
      position = next.position;
    } else {
      role = next.role;
      position = 0;
    }
    call = next.call;
  }
  throw new Error('plan did not finish');
}

test('B1: after each main step succeeds the next one is queued, with its position and its own call', () => {
  const first = continueAfterSuccess(chain, 'main', 0);
  assert.deepEqual(first, { kind: 'queue_step', position: 1, call: { task: 'vm.create_backend' } });
  assert.ok(first.kind === 'queue_step' && first.call === chain.steps[1]);
  assert.deepEqual(continueAfterSuccess(chain, 'main', 1), {
    kind: 'queue_step',
    position: 2,
    call: { task: 'vm.poll' },
  });
});

test('B1: after the last main step the success handler is queued', () => {
  const next = continueAfterSuccess(chain, 'main', 2);
  assert.deepEqual(next, { kind: 'queue_handler', role: 'success', call: { task: 'jetcel.set_ok' } });
  assert.ok(next.kind === 'queue_handler' && next.call === chain.onSuccess);
});

test('B1: the success handler succeeding finishes the execution as succeeded', () => {
  assert.deepEqual(continueAfterSuccess(chain, 'success', 0), { kind: 'finish', status: 'succeeded' });
});

test('B1: the failure handler succeeding finishes the execution as failed', () => {
  assert.deepEqual(continueAfterSuccess(chain, 'failure', 0), { kind: 'finish', status: 'failed' });
});

test('B1/[3]: a main step failing queues the failure handler, whatever its position', () => {
  for (const position of [0, 1, 2]) {
    const next = continueAfterFailure(chain, 'main', position);
    assert.deepEqual(
      next,
      { kind: 'queue_handler', role: 'failure', call: { task: 'jetcel.set_erred' } },
      `position ${position}`,
    );
    assert.ok(next.kind === 'queue_handler' && next.call === chain.onFailure);
  }
});

test('B1: the success handler failing queues the failure handler', () => {
  assert.deepEqual(continueAfterFailure(chain, 'success', 0), {
    kind: 'queue_handler',
    role: 'failure',
    call: { task: 'jetcel.set_erred' },
  });
});

test('B1: the failure handler failing finishes the execution as failed (it runs once)', () => {
  assert.deepEqual(continueAfterFailure(chain, 'failure', 0), { kind: 'finish', status: 'failed' });
});

test('B1/[2]: a 3-step chain that succeeds runs every step, then the success handler, and succeeds', () => {
  assert.deepEqual(drive(chain, new Set()), {
    ran: ['vm.begin', 'vm.create_backend', 'vm.poll', 'jetcel.set_ok'],
    status: 'succeeded',
  });
});

test('B1/[3]: a failing middle step skips later steps and the success handler; the failure handler runs', () => {
  assert.deepEqual(drive(chain, new Set(['vm.create_backend'])), {
    ran: ['vm.begin', 'vm.create_backend', 'jetcel.set_erred'],
    status: 'failed',
  });
});

test('B1: a failing success handler hands over to the failure handler; a failing failure handler ends it', () => {
  assert.deepEqual(drive(chain, new Set(['jetcel.set_ok'])), {
    ran: ['vm.begin', 'vm.create_backend', 'vm.poll', 'jetcel.set_ok', 'jetcel.set_erred'],
    status: 'failed',
  });
  assert.deepEqual(drive(chain, new Set(['vm.begin', 'jetcel.set_erred'])), {
    ran: ['vm.begin', 'jetcel.set_erred'],
    status: 'failed',
  });
});

test('B11: a failing step with ignoreErrors counts as success and the chain continues', () => {
  const plan = makePlan([step('a'), step('b', { ignoreErrors: true }), step('c')]);
  assert.deepEqual(continueAfterFailure(plan, 'main', 1), { kind: 'queue_step', position: 2, call: { task: 'c' } });
  assert.deepEqual(drive(plan, new Set(['b'])), { ran: ['a', 'b', 'c', 'jetcel.set_ok'], status: 'succeeded' });
});

test('B11: a failing last step with ignoreErrors queues the success handler', () => {
  const plan = makePlan([step('a'), step('b', { ignoreErrors: true })]);
  assert.deepEqual(continueAfterFailure(plan, 'main', 1), {
    kind: 'queue_handler',
    role: 'success',
    call: { task: 'jetcel.set_ok' },
  });
});

test('B11: cleanup plan: every per-resource step ignores errors, so all run and the owner is deleted', () => {
  const plan: Plan = {
    ...makePlan([step('vm.delete', { ignoreErrors: true }), step('volume.delete', { ignoreErrors: true })]),
    onSuccess: step('jetcel.delete_resource'),
  };
  assert.deepEqual(drive(plan, new Set(['vm.delete', 'volume.delete'])), {
    ran: ['vm.delete', 'volume.delete', 'jetcel.delete_resource'],
    status: 'succeeded',
  });
});

test('B11: ignoreErrors false, or on a different step, does not hide a failure', () => {
  const plan = makePlan([step('a', { ignoreErrors: false }), step('b', { ignoreErrors: true })]);
  assert.deepEqual(continueAfterFailure(plan, 'main', 0), {
    kind: 'queue_handler',
    role: 'failure',
    call: { task: 'jetcel.set_erred' },
  });
  assert.deepEqual(drive(plan, new Set(['a'])), { ran: ['a', 'jetcel.set_erred'], status: 'failed' });
});
