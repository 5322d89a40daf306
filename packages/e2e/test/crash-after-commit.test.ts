import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually } from '@jetcel/testing';
import { Stack } from './stack.ts';

let stack: Stack;
before(async () => {
  stack = await Stack.start();
});
after(async () => {
  await stack?.stop();
});

test('F2: the executor dies between COMMIT and publish; the sweeper publishes the row and the instance reaches OK', async () => {
  const executor = await stack.spawn('executor', { env: { JETCEL_FAULT_POINT: 'after-commit-before-publish' } });
  await stack.spawn('worker', { queue: 'regular' });
  // The executor commits, then kills itself before publishing or replying: the client sees no answer.
  await assert.rejects(stack.request('cmd.instance.create', { name: 'survivor', cloudSettingsId: 'default' }));
  assert.equal(await executor.exited, null, 'the executor died of SIGKILL at the fault point');
  assert.ok(executor.output().some((line) => line.includes('fault point after-commit-before-publish reached')));
  const [row] = await stack.sql<{ id: string }>("select id from ref_instance where name = 'survivor'");
  assert.ok(row, 'the command committed before the crash');
  // Nobody kicked the relay for this row; the worker's sweeper finds it.
  await stack.waitForState(row.id, 'OK', 20_000);
  const outbox = await stack.sql('select id from jetcel_outbox where published_at is null and not_before <= now()');
  assert.equal(outbox.length, 0);
  await eventually(
    async () => (await stack.sql("select status from jetcel_execution where status = 'succeeded'")).length === 1,
  );
});
