import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dataOf, Stack } from './stack.ts';

// The README's `nats req` and `nats stream ls` lines, sent through nats.js (the nats CLI cannot be
// installed here): the same subjects and payloads must work as written.
const readme = readFileSync(resolve(dirname(fileURLToPath(import.meta.url)), '../../../README.md'), 'utf8');
const requests = [...readme.matchAll(/^nats req (\S+) '(.*)'$/gm)].map((match) => ({
  subject: match[1] ?? '',
  payload: match[2] ?? '',
}));

let stack: Stack;
before(async () => {
  stack = await Stack.start();
  await stack.spawn('executor');
  await stack.spawn('worker', { queue: 'regular' });
});
after(async () => {
  await stack?.stop();
});

test('the README shows the create, get and execution lines', () => {
  assert.deepEqual(
    requests.map((request) => request.subject),
    ['cmd.instance.create', 'query.instance.get', 'query.execution.get', 'query.retention.stats'],
  );
  assert.match(readme, /^nats stream ls$/m);
  assert.match(readme, /^docker compose up$/m);
  assert.match(readme, /^pnpm test$/m);
  assert.match(readme, /^pnpm dev /m);
});

test("the README's nats req lines work as written", async () => {
  const [create, get, execution] = requests;
  assert.ok(create && get && execution);
  const created = dataOf<{ id: string; executionId: string; state: string }>(
    await stack.request(create.subject, create.payload),
  );
  assert.equal(created.state, 'CREATION_SCHEDULED');
  await stack.waitForState(created.id, 'OK');
  const fill = (payload: string): string =>
    payload.replace(/<id[^>]*>/, created.id).replace(/<executionId[^>]*>/, created.executionId);
  const instance = dataOf<{ state: string }>(await stack.request(get.subject, fill(get.payload)));
  assert.equal(instance.state, 'OK');
  const run = dataOf<{ status: string; steps: unknown[] }>(
    await stack.request(execution.subject, fill(execution.payload)),
  );
  assert.equal(run.status, 'succeeded');
  assert.equal(run.steps.length, 3);
});

test("the README's retention line answers the row counts and the retention in force", async () => {
  const stats = requests.find((request) => request.subject === 'query.retention.stats');
  assert.ok(stats);
  const data = dataOf<{ rows: { outbox: { total: number } }; retention: { outboxMs: number } }>(
    await stack.request(stats.subject, stats.payload),
  );
  assert.equal(typeof data.rows.outbox.total, 'number');
  assert.equal(data.retention.outboxMs, 3_600_000);
});

test("the README's `nats stream ls` shows the task and event streams and the lease bucket", async () => {
  const jsm = await stack.bus.jsm();
  const names: string[] = [];
  for await (const stream of jsm.streams.list()) names.push(stream.config.name);
  assert.deepEqual(names.sort(), ['EVENTS', 'KV_LEASES', 'TASKS_BACKGROUND', 'TASKS_HEAVY', 'TASKS_REGULAR']);
});
