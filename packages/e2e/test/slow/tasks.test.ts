import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readStreamMessages } from '@jetcel/bus';
import type { ServiceProcess } from '@jetcel/testing';
import { Stack } from '../stack.ts';

let stack: Stack;
let worker: ServiceProcess;
before(async () => {
  stack = await Stack.start({ buildDelayMs: 1200, env: { INSTANCE_FIRST_POLL_DELAY_MS: '800' } });
  await stack.spawn('executor');
  worker = await stack.spawn('worker', { queue: 'regular' });
});
after(async () => {
  await stack?.stop();
});

interface StepRow {
  task: string;
  role: string;
  status: string;
  attempts: number;
  polls: number;
  queued_at: Date;
  started_at: Date | null;
  error_message: string;
}
const stepsOf = (executionId: string) =>
  stack.sql<StepRow>(
    'select task, role, status, attempts, polls, queued_at, started_at, error_message from jetcel_step where execution_id = $1 order by queued_at',
    [executionId],
  );

test('C6: a start delay delays only the first attempt of its step (later polls follow the poll interval)', async () => {
  const created = await stack.ok<{ id: string; executionId: string }>('cmd.instance.create', {
    name: 'delayed-poll',
    cloudSettingsId: 'default',
  });
  await stack.waitForState(created.id, 'OK');
  const poll = (await stepsOf(created.executionId)).find((step) => step.task === 'instance.poll_server');
  assert.ok(poll?.started_at);
  const firstRunAfterMs = new Date(poll.started_at).getTime() - new Date(poll.queued_at).getTime();
  assert.ok(firstRunAfterMs >= 750, `first poll waited for the start delay (${firstRunAfterMs} ms)`);
  assert.ok(poll.polls >= 1, `later polls came every 150 ms, not every 800 ms (polls: ${poll.polls})`);
});

test('C7: transient backend errors retry with backoff and succeed; the failure handler does not run', async () => {
  await stack.fault({ op: 'create', resource: 'server', mode: 'http500', count: 2 });
  const started = Date.now();
  const created = await stack.ok<{ id: string; executionId: string }>('cmd.instance.create', {
    name: 'flaky',
    cloudSettingsId: 'default',
  });
  await stack.waitForState(created.id, 'OK');
  const steps = await stepsOf(created.executionId);
  const create = steps.find((step) => step.task === 'instance.create_server');
  assert.equal(create?.attempts, 3);
  assert.equal(create?.status, 'succeeded');
  assert.equal(steps.filter((step) => step.role === 'failure').length, 0);
  assert.ok(Date.now() - started >= 2000, 'two backoffs of about 1 s and 2 s (±20%) were waited out');
});

test('C7: retries run out → one final failure runs the failure handler; a non-retryable error fails at once', async () => {
  await stack.fault({ op: 'create', resource: 'server', mode: 'http500', count: 3 });
  const exhausted = await stack.ok<{ id: string; executionId: string }>('cmd.instance.create', {
    name: 'always-500',
    cloudSettingsId: 'default',
  });
  await stack.waitForState(exhausted.id, 'ERRED');
  const steps = await stepsOf(exhausted.executionId);
  assert.deepEqual(
    steps.map((step) => [step.task, step.status, step.attempts]),
    [
      ['instance.create_server', 'failed', 3],
      ['instance.set_erred', 'succeeded', 1],
    ],
  );
  await stack.fault({ op: 'create', resource: 'server', mode: 'error', message: 'Image not found', count: 1 });
  const final = await stack.ok<{ id: string; executionId: string }>('cmd.instance.create', {
    name: 'bad-image',
    cloudSettingsId: 'default',
  });
  await stack.waitForState(final.id, 'ERRED');
  assert.equal((await stepsOf(final.executionId))[0]?.attempts, 1);
});

test('C2: the actor travels with the execution, its task logs and its events; a deleted resource fails its task clearly', async () => {
  const created = await stack.ok<{ id: string; executionId: string }>(
    'cmd.instance.create',
    { name: 'alices-vm', cloudSettingsId: 'default' },
    { Actor: 'alice' },
  );
  await stack.waitForState(created.id, 'OK');
  const execution = await stack.waitForExecution(created.executionId);
  assert.equal(execution.actor, 'alice');
  const logLines = worker
    .output()
    .filter((line) => line.includes(created.executionId) && line.includes('"msg":"step started"'));
  assert.ok(
    logLines.length >= 3 && logLines.every((line) => line.includes('"actor":"alice"')),
    'every step logs its actor',
  );
  const events = await readStreamMessages(stack.bus, 'EVENTS', { subject: `events.instance.${created.id}.>` });
  assert.ok(events.length >= 3);
  assert.ok(
    events.every((event) => (JSON.parse(Buffer.from(event.data).toString()) as { actor: string }).actor === 'alice'),
  );

  await worker.stop();
  const rename = await stack.ok<{ executionId: string }>('cmd.instance.rename', { id: created.id, name: 'gone-soon' });
  await stack.sql('delete from ref_instance where id = $1', [created.id]);
  worker = await stack.spawn('worker', { queue: 'regular' });
  const failed = await stack.waitForExecution(rename.executionId);
  assert.equal(failed.status, 'failed');
  assert.match(
    failed.errorMessage,
    new RegExp(`Resource instance:${created.id} no longer exists; it was probably deleted`),
  );
});

test('C10: one event per committed transition, in version order, and a tombstone after delete', async () => {
  const created = await stack.ok<{ id: string; executionId: string }>('cmd.instance.create', {
    name: 'evented',
    cloudSettingsId: 'default',
  });
  await stack.waitForState(created.id, 'OK');
  const resize = await stack.ok<{ executionId: string }>('cmd.instance.resize', { id: created.id, flavor: 'large' });
  await stack.waitForExecution(resize.executionId);
  const remove = await stack.ok<{ executionId: string }>('cmd.instance.delete', { id: created.id });
  await stack.waitForExecution(remove.executionId);
  await new Promise((resolve) => setTimeout(resolve, 500)); // the relay publishes the last events after the commit
  const events = (await readStreamMessages(stack.bus, 'EVENTS', { subject: `events.instance.${created.id}.>` })).map(
    (message) => ({
      subject: message.subject,
      ...(JSON.parse(Buffer.from(message.data).toString()) as {
        eventId: string;
        resourceVersion: number;
        from: string | null;
        to: string | null;
      }),
    }),
  );
  assert.deepEqual(
    events.map((event) => event.to),
    [
      'CREATION_SCHEDULED',
      'CREATING',
      'OK',
      'UPDATE_SCHEDULED',
      'UPDATING',
      'OK',
      'DELETION_SCHEDULED',
      'DELETING',
      null,
    ],
  );
  assert.equal(events.at(-1)?.subject, `events.instance.${created.id}.deleted`);
  const versions = events.map((event) => event.resourceVersion);
  assert.deepEqual(
    versions,
    [...versions].sort((a, b) => a - b),
    'in the order of the resource version',
  );
  assert.equal(new Set(versions).size, versions.length, 'one event per version');
  assert.equal(new Set(events.map((event) => event.eventId)).size, events.length, 'no event published twice');
  for (const [index, event] of events.entries()) if (index > 0) assert.equal(event.from, events[index - 1]?.to);
});
