import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { dataOf, Stack } from './stack.ts';

// The `nats req` and `nats stream ls` lines of the README (and the operating guide), sent through nats.js (the nats CLI cannot be
// installed here): the same subjects, headers and payloads must work as written, against an
// executor with compose's policy (deny) and a token signed by the README's token line.
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
// The retention line lives in docs/operating.md, beside what it explains.
const readme = ['README.md', 'docs/operating.md'].map((file) => readFileSync(resolve(root, file), 'utf8')).join('\n');
const requests = [...readme.matchAll(/^nats req (?:-H "([^"]*)" )?(\S+) '(.*)'$/gm)].map((match) => ({
  header: match[1] ?? null,
  subject: match[2] ?? '',
  payload: match[3] ?? '',
}));
const secret = 'readme-test-secret-of-at-least-32-chars';
const run = promisify(execFile);

let stack: Stack;
let token = '';
before(async () => {
  stack = await Stack.start({ env: { JETCEL_AUTH_SECRET: secret, JETCEL_AUTH_ANONYMOUS: 'deny' } });
  // The quick start's token line, run here as it runs in the executor's container: the bundle,
  // with the secret in the file JETCEL_AUTH_SECRET_FILE names.
  const line = /^TOKEN=\$\(docker compose exec -T executor node (scripts\/dist\/token\.js [^)]*)\)$/m.exec(readme);
  assert.ok(line?.[1], 'the quick start signs a token in the executor container');
  await run(process.execPath, ['--import', 'tsx', 'scripts/build.ts', 'token'], { cwd: root });
  const secretFile = join(mkdtempSync(join(tmpdir(), 'jetcel-readme-')), 'auth-secret');
  writeFileSync(secretFile, `${secret}\n`, { mode: 0o600 });
  const { stdout } = await run(process.execPath, line[1].split(' '), {
    cwd: root,
    env: { ...process.env, JETCEL_AUTH_SECRET_FILE: secretFile },
  });
  token = stdout.trim();
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
  // Every line carries the token (compose denies anonymous callers), in the nats CLI's K:V form.
  for (const request of requests) assert.equal(request.header, 'Authorization:Bearer $TOKEN', request.subject);
  const headers = { Authorization: `Bearer ${token}` };
  assert.equal((await stack.request(create.subject, create.payload)).ok, false, 'no token, no access');
  stack.requestHeaders = headers; // for waitForState
  const created = dataOf<{ id: string; executionId: string; state: string }>(
    await stack.request(create.subject, create.payload, headers),
  );
  assert.equal(created.state, 'CREATION_SCHEDULED');
  await stack.waitForState(created.id, 'OK');
  const fill = (payload: string): string =>
    payload.replace(/<id[^>]*>/, created.id).replace(/<executionId[^>]*>/, created.executionId);
  const instance = dataOf<{ state: string }>(await stack.request(get.subject, fill(get.payload), headers));
  assert.equal(instance.state, 'OK');
  const run = dataOf<{ status: string; steps: unknown[] }>(
    await stack.request(execution.subject, fill(execution.payload), headers),
  );
  assert.equal(run.status, 'succeeded');
  assert.equal(run.steps.length, 3);
});

test("the README's retention line answers the row counts and the retention in force", async () => {
  const stats = requests.find((request) => request.subject === 'query.retention.stats');
  assert.ok(stats);
  const data = dataOf<{ rows: { outbox: { total: number } }; retention: { outboxMs: number } }>(
    await stack.request(stats.subject, stats.payload, { Authorization: `Bearer ${token}` }),
  );
  assert.equal(typeof data.rows.outbox.total, 'number');
  assert.equal(data.retention.outboxMs, 3_600_000);
});

test("the README's `nats stream ls` shows the task and event streams and the lease bucket", async () => {
  const jsm = await stack.bus.jsm();
  const names: string[] = [];
  for await (const stream of jsm.streams.list()) names.push(stream.config.name);
  assert.deepEqual(names.sort(), [
    'EVENTS',
    'KV_LEASES',
    'TASKS_BACKGROUND',
    'TASKS_BACKGROUND_LONG',
    'TASKS_HEAVY',
    'TASKS_HEAVY_LONG',
    'TASKS_REGULAR',
    'TASKS_REGULAR_LONG',
  ]);
});
