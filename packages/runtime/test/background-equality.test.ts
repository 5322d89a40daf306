import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defineTask, sameNameResourceAndArgs, TaskRegistry, type EqualityPredicate } from '@jetcel/core';
import { enqueueBackground, type BackgroundRequest } from '../src/background/enqueue.ts';
import { useTestDb } from './db-fixture.ts';

const env = useTestDb();

const background = (name: string, equality: Parameters<typeof defineTask>[0]['equality']) =>
  defineTask({ name, queue: 'background', equality, run: async () => {} });

/** Equal when both runs sync the same tenant, whatever the resource. */
const sameTenant: EqualityPredicate = (candidate, active) =>
  typeof candidate.args === 'object' &&
  typeof active.args === 'object' &&
  candidate.args !== null &&
  active.args !== null &&
  !Array.isArray(candidate.args) &&
  !Array.isArray(active.args) &&
  candidate.args['tenant'] === active.args['tenant'];

const catalog = new TaskRegistry().register(
  background('sync.tenant', sameTenant),
  background('sync.exact', sameNameResourceAndArgs),
  background('sync.byname', 'name'),
  background('sync.byresource', 'resource'),
  background('sync.any', 'none'),
);

const enqueue = (request: BackgroundRequest) => env.db.transaction((tx) => enqueueBackground(tx, catalog, request));

test('a predicate equality skips a run equal to a queued one, over name, resource and args', async () => {
  const first = await enqueue({ task: 'sync.tenant', resource: 'widget:1', args: { tenant: 'a' } });
  assert.equal(first.kind, 'queued');
  const equal = await enqueue({ task: 'sync.tenant', resource: 'widget:2', args: { tenant: 'a' } });
  assert.deepEqual(equal, {
    kind: 'skipped',
    equalityKey: 'sync.tenant',
    equalTo: first.kind === 'queued' ? first.runId : '',
  });
  assert.equal((await enqueue({ task: 'sync.tenant', args: { tenant: 'b' } })).kind, 'queued');

  assert.equal((await enqueue({ task: 'sync.exact', resource: 'widget:1', args: { n: 1 } })).kind, 'queued');
  assert.equal((await enqueue({ task: 'sync.exact', resource: 'widget:1', args: { n: 1 } })).kind, 'skipped');
  assert.equal((await enqueue({ task: 'sync.exact', resource: 'widget:1', args: { n: 2 } })).kind, 'queued');
  assert.equal((await enqueue({ task: 'sync.exact', resource: 'widget:2', args: { n: 1 } })).kind, 'queued');
});

test('concurrent enqueues of equal runs under a predicate: exactly one is queued', async () => {
  const results = await Promise.all(
    Array.from({ length: 6 }, () => enqueue({ task: 'sync.tenant', args: { tenant: 'race' } })),
  );
  assert.equal(results.filter((result) => result.kind === 'queued').length, 1);
});

test('the three shorthands keep their behaviour: one per name, one per resource, no limit', async () => {
  assert.equal((await enqueue({ task: 'sync.byname', args: { x: 1 } })).kind, 'queued');
  assert.equal((await enqueue({ task: 'sync.byname', args: { x: 2 } })).kind, 'skipped');
  assert.equal((await enqueue({ task: 'sync.byresource', resource: 'widget:1' })).kind, 'queued');
  assert.equal((await enqueue({ task: 'sync.byresource', resource: 'widget:1' })).kind, 'skipped');
  assert.equal((await enqueue({ task: 'sync.byresource', resource: 'widget:2' })).kind, 'queued');
  assert.equal((await enqueue({ task: 'sync.any' })).kind, 'queued');
  assert.equal((await enqueue({ task: 'sync.any' })).kind, 'queued');
});
