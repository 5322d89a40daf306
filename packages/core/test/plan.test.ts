import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  PLAN_VERSION,
  continueAfterFailure,
  continueAfterSuccess,
  isGroup,
  type Continuation,
  type GroupNode,
  type Plan,
  type PlanNode,
  type StepCall,
  type StepRole,
} from '../src/index.ts';

const step = (task: string, extra: Partial<StepCall> = {}): StepCall => ({ task, ...extra });
const group = (members: StepCall[], policy: GroupNode['policy'] = 'wait_all'): GroupNode => ({
  group: members,
  policy,
});

function makePlan(steps: PlanNode[]): Plan {
  return {
    v: PLAN_VERSION,
    executor: 'vm.create',
    steps,
    onSuccess: [step('jetcel.set_ok')],
    onFailure: [step('jetcel.set_erred')],
  };
}

const chain = makePlan([step('vm.begin'), step('vm.create_backend'), step('vm.poll')]);

type Finished = 'succeeded' | 'failed' | 'cancelled';

/**
 * Drives a plan through the continuations as the runtime does, with `fails` naming the tasks that
 * fail for good. A group's members run in parallel (recorded here in plan order); the group
 * succeeds once all succeeded and fails if any failed. Returns the tasks that ran, in order, and
 * how the execution finished.
 */
function drive(plan: Plan, fails: ReadonlySet<string>): { ran: string[]; status: Finished } {
  const ran: string[] = [];
  let role: StepRole = 'main';
  let position = 0;
  let node: PlanNode = plan.steps[0]!;
  for (let guard = 0; guard < 100; guard += 1) {
    const calls = isGroup(node) ? node.group : [node];
    ran.push(...calls.map((call) => call.task));
    const failed = calls.some((call) => fails.has(call.task));
    const next: Continuation = failed ? continueAfterFailure(plan, role) : continueAfterSuccess(plan, role, position);
    if (next.kind === 'finish') return { ran, status: next.status };
    if (next.kind === 'queue_node') {
      role = 'main';
      position = next.position;
      node = next.node;
    } else {
      role = next.role;
      position = next.position;
      node = next.call;
    }
  }
  throw new Error('plan did not finish');
}

test('B1: after each main step succeeds the next node is queued, with its position and the node itself', () => {
  const first = continueAfterSuccess(chain, 'main', 0);
  assert.deepEqual(first, { kind: 'queue_node', position: 1, node: { task: 'vm.create_backend' } });
  assert.ok(first.kind === 'queue_node' && first.node === chain.steps[1]);
  assert.deepEqual(continueAfterSuccess(chain, 'main', 1), {
    kind: 'queue_node',
    position: 2,
    node: { task: 'vm.poll' },
  });
});

test('B1: after the last main step the success handler is queued', () => {
  const next = continueAfterSuccess(chain, 'main', 2);
  assert.deepEqual(next, { kind: 'queue_handler', role: 'success', position: 0, call: { task: 'jetcel.set_ok' } });
  assert.ok(next.kind === 'queue_handler' && next.call === chain.onSuccess[0]);
});

test('B1: the success handler succeeding finishes the execution as succeeded', () => {
  assert.deepEqual(continueAfterSuccess(chain, 'success', 0), { kind: 'finish', status: 'succeeded' });
});

test('B1: the failure handler succeeding finishes the execution as failed', () => {
  assert.deepEqual(continueAfterSuccess(chain, 'failure', 0), { kind: 'finish', status: 'failed' });
});

test('B1/[3]: a main step failing queues the failure handler', () => {
  const next = continueAfterFailure(chain, 'main');
  assert.deepEqual(next, { kind: 'queue_handler', role: 'failure', position: 0, call: { task: 'jetcel.set_erred' } });
  assert.ok(next.kind === 'queue_handler' && next.call === chain.onFailure[0]);
});

test('B1: the success handler failing queues the failure handler', () => {
  const next = continueAfterFailure(chain, 'success');
  assert.deepEqual(next, { kind: 'queue_handler', role: 'failure', position: 0, call: { task: 'jetcel.set_erred' } });
  assert.ok(next.kind === 'queue_handler' && next.call === chain.onFailure[0]);
});

test('B1: the failure handler failing finishes the execution as failed (it runs once)', () => {
  assert.deepEqual(continueAfterFailure(chain, 'failure'), { kind: 'finish', status: 'failed' });
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

test('B11: core leaves ignoreErrors to the runtime: a failing ignoreErrors step still queues the failure handler', () => {
  const plan = makePlan([step('a'), step('b', { ignoreErrors: true }), step('c')]);
  assert.deepEqual(continueAfterFailure(plan, 'main'), {
    kind: 'queue_handler',
    role: 'failure',
    position: 0,
    call: { task: 'jetcel.set_erred' },
  });
  // The runtime counts an ignored failure as a success, i.e. continues with continueAfterSuccess.
  assert.deepEqual(continueAfterSuccess(plan, 'main', 1), { kind: 'queue_node', position: 2, node: { task: 'c' } });
});

test('B8: isGroup tells a group node from a step call', () => {
  assert.equal(isGroup(group([step('a'), step('b')])), true);
  assert.equal(isGroup(group([step('a')], 'fail_fast')), true);
  assert.equal(isGroup(step('a')), false);
  assert.equal(isGroup(step('group')), false);
  assert.equal(isGroup(step('a', { args: { group: [] } })), false);
});

test('B8: a group node is queued as one node, the group object itself', () => {
  const volumes = group([
    step('volume.create', { resource: 'volume:v1' }),
    step('volume.create', { resource: 'volume:v2' }),
  ]);
  const plan = makePlan([step('vm.begin'), volumes, step('vm.create_backend')]);
  const next = continueAfterSuccess(plan, 'main', 0);
  assert.deepEqual(next, { kind: 'queue_node', position: 1, node: volumes });
  assert.ok(next.kind === 'queue_node' && next.node === volumes && isGroup(next.node));
});

test('B8: after a group position succeeds the chain continues with the next node', () => {
  const plan = makePlan([group([step('a1'), step('a2')]), group([step('b1'), step('b2')], 'fail_fast'), step('c')]);
  const afterFirst = continueAfterSuccess(plan, 'main', 0);
  assert.deepEqual(afterFirst, { kind: 'queue_node', position: 1, node: plan.steps[1] });
  assert.ok(afterFirst.kind === 'queue_node' && afterFirst.node === plan.steps[1]);
  assert.deepEqual(continueAfterSuccess(plan, 'main', 1), { kind: 'queue_node', position: 2, node: { task: 'c' } });
});

test('B8: a group as the last node is followed by the success handler', () => {
  const plan = makePlan([step('a'), group([step('b1'), step('b2')])]);
  assert.deepEqual(continueAfterSuccess(plan, 'main', 1), {
    kind: 'queue_handler',
    role: 'success',
    position: 0,
    call: { task: 'jetcel.set_ok' },
  });
});

test('B8: a plan with groups runs every member, then the later nodes and the success handler', () => {
  const plan = makePlan([step('vm.begin'), group([step('volume.a'), step('volume.b')]), step('vm.create_backend')]);
  assert.deepEqual(drive(plan, new Set()), {
    ran: ['vm.begin', 'volume.a', 'volume.b', 'vm.create_backend', 'jetcel.set_ok'],
    status: 'succeeded',
  });
});

test('B8: a failed group skips the later nodes and runs the failure handler', () => {
  const plan = makePlan([step('vm.begin'), group([step('volume.a'), step('volume.b')]), step('vm.create_backend')]);
  assert.deepEqual(drive(plan, new Set(['volume.b'])), {
    ran: ['vm.begin', 'volume.a', 'volume.b', 'jetcel.set_erred'],
    status: 'failed',
  });
});

test('B9: continueAfterSuccess: the failure handler of a cancelled execution finishes it as cancelled', () => {
  assert.deepEqual(continueAfterSuccess(chain, 'failure', 0, true), { kind: 'finish', status: 'cancelled' });
  assert.deepEqual(continueAfterSuccess(chain, 'failure', 0, false), { kind: 'finish', status: 'failed' });
});

test('B9: continueAfterSuccess: the cancelled flag changes nothing for the main chain or the success handler', () => {
  assert.deepEqual(continueAfterSuccess(chain, 'main', 0, true), {
    kind: 'queue_node',
    position: 1,
    node: { task: 'vm.create_backend' },
  });
  assert.deepEqual(continueAfterSuccess(chain, 'main', 2, true), {
    kind: 'queue_handler',
    role: 'success',
    position: 0,
    call: { task: 'jetcel.set_ok' },
  });
  assert.deepEqual(continueAfterSuccess(chain, 'success', 0, true), { kind: 'finish', status: 'succeeded' });
});

test('B9: continueAfterFailure: the failure handler of a cancelled execution failing finishes it as cancelled', () => {
  assert.deepEqual(continueAfterFailure(chain, 'failure', true), { kind: 'finish', status: 'cancelled' });
  assert.deepEqual(continueAfterFailure(chain, 'failure', false), { kind: 'finish', status: 'failed' });
});

test('B9: continueAfterFailure: under cancel a main step or success handler failing still queues the failure handler', () => {
  for (const role of ['main', 'success'] as const) {
    assert.deepEqual(
      continueAfterFailure(chain, role, true),
      { kind: 'queue_handler', role: 'failure', position: 0, call: { task: 'jetcel.set_erred' } },
      role,
    );
  }
});

const withHandlers = (onSuccess: string[], onFailure: string[]): Plan => ({
  ...makePlan([step('a'), step('b')]),
  onSuccess: onSuccess.map((task) => step(task)),
  onFailure: onFailure.map((task) => step(task)),
});

test('handler chains: the success chain runs in order after the main chain, then the execution succeeds', () => {
  const plan = withHandlers(['ok.instance', 'ok.volume', 'notify'], ['erred']);
  assert.deepEqual(continueAfterSuccess(plan, 'success', 0), {
    kind: 'queue_handler',
    role: 'success',
    position: 1,
    call: { task: 'ok.volume' },
  });
  assert.deepEqual(continueAfterSuccess(plan, 'success', 2), { kind: 'finish', status: 'succeeded' });
  assert.deepEqual(drive(plan, new Set()), {
    ran: ['a', 'b', 'ok.instance', 'ok.volume', 'notify'],
    status: 'succeeded',
  });
});

test('handler chains: a failure inside the success chain skips its rest and runs the failure chain from its start', () => {
  const plan = withHandlers(['ok.instance', 'ok.volume', 'notify'], ['erred.volume', 'erred.instance']);
  assert.deepEqual(continueAfterFailure(plan, 'success'), {
    kind: 'queue_handler',
    role: 'failure',
    position: 0,
    call: { task: 'erred.volume' },
  });
  assert.deepEqual(drive(plan, new Set(['ok.volume'])), {
    ran: ['a', 'b', 'ok.instance', 'ok.volume', 'erred.volume', 'erred.instance'],
    status: 'failed',
  });
});

test('handler chains: the failure chain runs in order; a failure inside it ends the execution, its rest skipped', () => {
  const plan = withHandlers(['ok'], ['erred.volume', 'erred.instance', 'notify']);
  assert.deepEqual(drive(plan, new Set(['b'])), {
    ran: ['a', 'b', 'erred.volume', 'erred.instance', 'notify'],
    status: 'failed',
  });
  assert.deepEqual(drive(plan, new Set(['b', 'erred.instance'])), {
    ran: ['a', 'b', 'erred.volume', 'erred.instance'],
    status: 'failed',
  });
  assert.deepEqual(continueAfterSuccess(plan, 'failure', 1, true), {
    kind: 'queue_handler',
    role: 'failure',
    position: 2,
    call: { task: 'notify' },
  });
  assert.deepEqual(continueAfterSuccess(plan, 'failure', 2, true), { kind: 'finish', status: 'cancelled' });
});
