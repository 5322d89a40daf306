import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defineTask, done } from '@jetcel/core';
import { fakeResource, fakeResourceReader, fakeTaskContext } from '../src/index.ts';

test('fakeTaskContext: harmless defaults, a per-step idempotency key, and the overrides given', async () => {
  const ctx = fakeTaskContext({ services: { greeting: 'hi' }, fencingToken: '3', fencingSlot: 'kind:scope:0' });
  assert.equal(ctx.attempt, 1);
  assert.equal(ctx.pollCount, 0);
  assert.equal(ctx.idempotencyKey, `${ctx.executionId}:${ctx.stepId}`);
  assert.equal(ctx.signal.aborted, false);
  assert.deepEqual([ctx.fencingToken, ctx.fencingSlot], ['3', 'kind:scope:0']);
  const greet = defineTask<unknown, { greeting: string }>({
    name: 'test.greet',
    run: async (context) => done(undefined, { said: context.services.greeting }),
  });
  assert.deepEqual(await greet.run(ctx, undefined), { kind: 'done', patch: undefined, result: { said: 'hi' } });
});

test('the resource of a fake context is what ctx.resources reads, and the reader filters like the store', async () => {
  const zone = fakeResource('zone', { name: 'a.org' });
  const ctx = fakeTaskContext({ services: {}, resource: zone });
  assert.equal(await ctx.resources.get(`zone:${zone.id}`), zone);
  const reader = fakeResourceReader([zone, fakeResource('zone', { name: 'b.org' }, { state: 'ERRED' })]);
  assert.deepEqual(
    (await reader.find('zone', {}, { states: ['ERRED'] })).map((found) => found.fields.name),
    ['b.org'],
  );
  assert.equal((await reader.find('zone', { name: 'a.org' }))[0], zone);
  assert.equal(await reader.get('zone:missing'), null);
});
