import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { publish, streamInfo } from '@jetcel/bus';
import { eventually } from '@jetcel/testing';
import { Stack } from '../test/stack.ts';

// Dead letters: messages jetcel cannot or must not run end as dead-letter rows, and the queue
// keeps flowing. Short ack wait and claims, so crashes are noticed within seconds.

let stack: Stack;
const env = {
  JETCEL_ACK_WAIT_MS_REGULAR: '2000',
  JETCEL_CLAIM_TTL_MS: '2000',
  JETCEL_CLAIM_GRACE_MS: '300',
  JETCEL_CRASH_BUDGET: '2',
  JETCEL_UNKNOWN_TASK_GRACE_MS: '1500',
};
before(async () => {
  stack = await Stack.start({ buildDelayMs: 200, env });
  await stack.spawn('executor');
  await stack.spawn('worker', { queue: 'regular' });
});
after(async () => {
  await stack?.stop();
});

interface LetterRow {
  id: string;
  reason: string;
  detail: string;
  payload: string;
  payload_encoding: string;
  step_id: string | null;
}
const letters = () =>
  stack.sql<LetterRow>(
    'select id, reason, detail, payload, payload_encoding, step_id from jetcel_dead_letter order by created_at',
  );

test('G2: an undecodable message and one naming no known step are dead-lettered with reason and payload; the queue keeps flowing', async () => {
  await publish(stack.bus, 'tasks.regular', Buffer.from([0xff, 0xfe, 0x00, 0x7b]), { msgId: randomUUID() });
  const unattributable = await stack.publishOrphanTask();
  const { id } = await stack.readyInstance('still-flowing');
  assert.ok(id);
  const rows = await eventually(async () => {
    const found = await letters();
    return found.length >= 2 ? found : undefined;
  });
  assert.deepEqual(rows.map((row) => row.reason).sort(), ['UNATTRIBUTABLE', 'UNDECODABLE']);
  const binary = rows.find((row) => row.reason === 'UNDECODABLE');
  assert.deepEqual(
    [binary?.payload_encoding, Buffer.from(String(binary?.payload), 'base64')],
    ['base64', Buffer.from([0xff, 0xfe, 0x00, 0x7b])],
  );
  assert.equal(rows.find((row) => row.reason === 'UNATTRIBUTABLE')?.payload, unattributable);
  await eventually(async () => (await streamInfo(stack.bus, 'TASKS_REGULAR')).messages === 0, {
    message: 'the stream drained',
  });
  const listed = await stack.ok<{ items: Array<{ reason: string }> }>('query.dead_letter.list', { pending: true });
  assert.equal(listed.items.length, 2);
});

test('G5: an unknown task waits out the grace period (handed back), then is dead-lettered', async () => {
  await stack.publishOrphanTask('from.the.future');
  const row = await eventually(async () => (await letters()).find((letter) => letter.reason === 'UNKNOWN_TASK'), {
    timeoutMs: 15_000,
  });
  assert.match(row.detail, /task from\.the\.future is unknown after a grace period of 1500 ms/);
  const worker = stack.services.find((service) => service.output().some((line) => line.includes('"worker ready"')));
  assert.ok(
    worker?.output().some((line) => line.includes('from.the.future') && line.includes('handing the message back')),
    'it was handed back while in grace',
  );
});

test('C9: a task that kills its worker every time is dead-lettered within the crash budget, never re-published by the reconciler, and re-driven', async () => {
  const before = (await letters()).length;
  // No healthy worker may run the step first: they stop before the command is sent.
  for (const service of stack.services.filter((candidate) =>
    candidate.output().some((line) => line.includes('"worker ready"')),
  ))
    await service.stop();
  const created = await stack.ok<{ id: string; executionId: string }>('cmd.instance.create', {
    name: 'poison',
    cloudSettingsId: 'default',
  });
  const faulty = {
    JETCEL_FAULT_POINT: 'before-backend-call',
    JETCEL_FAULT_MATCH: `instance.create_server ${created.executionId}`,
  };
  let crashes = 0;
  for (let round = 0; round < 6; round += 1) {
    const worker = await stack.spawn('worker', { queue: 'regular', env: faulty });
    const ended = await Promise.race([
      worker.exited.then(() => 'died' as const),
      new Promise<'alive'>((resolve) => setTimeout(() => resolve('alive'), 8000)),
    ]);
    if (ended === 'alive') {
      await worker.stop();
      break;
    }
    crashes += 1;
  }
  assert.ok(crashes >= 2 && crashes <= 4, `the poison step killed ${crashes} workers before it was stopped`);
  const letter = await eventually(async () =>
    (await letters()).slice(before).find((row) => row.reason === 'CRASH_BUDGET'),
  );
  const [step] = await stack.sql<{ id: string; status: string }>(
    "select id, status from jetcel_step where execution_id = $1 and task = 'instance.create_server'",
    [created.executionId],
  );
  assert.equal(letter.step_id, step?.id);
  assert.equal(step?.status, 'dead');
  // A healthy worker and several sweeps later, nothing has re-published it.
  await stack.spawn('worker', { queue: 'regular' });
  await new Promise((resolve) => setTimeout(resolve, 2500));
  assert.equal(
    (await stack.sql<{ status: string }>('select status from jetcel_step where id = $1', [step?.id]))[0]?.status,
    'dead',
  );
  const redriven = await stack.ok<{ redrivenAt: string | null }>('cmd.dead_letter.redrive', { id: letter.id });
  assert.ok(redriven.redrivenAt);
  await stack.waitForState(created.id, 'OK');
  const again = await stack.request('cmd.dead_letter.redrive', { id: letter.id });
  assert.equal(again.ok ? 'ok' : again.error.code, 'INVALID_STATE');
});

test('C7 vs C9: a task that merely keeps failing ends ERRED through the failure handler, not as a dead letter', async () => {
  const before = (await letters()).length;
  await stack.fault({ op: 'create', resource: 'server', mode: 'http500', count: 3 });
  const created = await stack.ok<{ id: string }>('cmd.instance.create', {
    name: 'just-failing',
    cloudSettingsId: 'default',
  });
  await stack.waitForState(created.id, 'ERRED', 30_000);
  assert.equal((await letters()).length, before);
});
