import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildPlan,
  CleanupCycleError,
  CleanupDependencyError,
  cleanupOrder,
  defineCleanupExecutor,
  type RelatedResources,
  type ResourceSnapshot,
} from '../src/index.ts';

const related = (resourceType: string, dependsOn: string[] = []): RelatedResources => ({
  resourceType,
  executor: `${resourceType}.delete`,
  where: (parent) => ({ ownerId: parent.id }),
  dependsOn,
});

test('cleanup order: a type goes before every type it depends on, otherwise in declaration order', () => {
  const order = cleanupOrder('tenant.cleanup', [
    related('network'),
    related('volume'),
    related('instance', ['volume', 'network']),
    related('floating_ip', ['instance']),
  ]);
  assert.deepEqual(
    order.map((relation) => relation.resourceType),
    ['floating_ip', 'instance', 'network', 'volume'],
  );
});

test('a dependency cycle or an unknown dependency is refused when the executor is defined, with a stable code', () => {
  assert.throws(
    () =>
      defineCleanupExecutor({
        name: 'tenant.cleanup',
        resourceType: 'tenant',
        related: [related('a', ['c']), related('b', ['a']), related('c', ['b']), related('d')],
      }),
    (error: unknown) =>
      error instanceof CleanupCycleError &&
      error.code === 'CLEANUP_DEPENDENCY_CYCLE' &&
      /cycle: (a → c → b → a|b → a → c → b|c → b → a → c)/.test(error.message),
  );
  assert.throws(
    () => defineCleanupExecutor({ name: 'x.cleanup', resourceType: 'x', related: [related('a', ['nope'])] }),
    (error: unknown) => error instanceof CleanupDependencyError && error.code === 'CLEANUP_UNKNOWN_DEPENDENCY',
  );
});

test('the plan names no related resource: each step carries the link, found when it runs', () => {
  const executor = defineCleanupExecutor({
    name: 'project.cleanup',
    resourceType: 'project',
    related: [{ ...related('instance', ['volume']), params: { force: true } }, related('volume')],
  });
  const parent = { type: 'project', id: 'p-1', state: 'DELETION_SCHEDULED', fields: {} } as unknown as ResourceSnapshot;
  const plan = buildPlan(executor, { resource: parent, params: {} });
  assert.equal(executor.kind, 'delete');
  assert.deepEqual(
    plan.steps.map((node) => ('task' in node ? [node.task, node.args] : null)),
    [
      ['jetcel.transition', { transition: 'begin_deleting' }],
      [
        'jetcel.cleanup_related',
        {
          resourceType: 'instance',
          executor: 'instance.delete',
          where: { ownerId: 'p-1' },
          params: { force: true },
          intervalMs: 2000,
          timeoutMs: 600_000,
        },
      ],
      [
        'jetcel.cleanup_related',
        {
          resourceType: 'volume',
          executor: 'volume.delete',
          where: { ownerId: 'p-1' },
          params: {},
          intervalMs: 2000,
          timeoutMs: 600_000,
        },
      ],
    ],
  );
  assert.deepEqual(plan.onSuccess, [{ task: 'jetcel.delete_resource' }], 'the parent row goes last');
});
