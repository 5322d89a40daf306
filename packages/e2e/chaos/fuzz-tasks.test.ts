// Bad input, workers side: random and hostile messages published straight onto
// tasks.regular, tasks.heavy and tasks.background. Properties: no worker exits, nothing is written
// to resource tables, every hostile message leaves its work-queue stream (at once, or after the
// unknown-task grace period when it names a task or version this worker lacks), and the queues
// keep flowing: a normal create reaches OK afterwards.
//
// Replay a failure: JETCEL_FUZZ_SEED=<seed> (printed in the test names), plus the `path` fast-check
// prints.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { consumerInfo, publish, readStreamMessages, streamInfo } from '@jetcel/bus';
import {
  HEADERS,
  QUEUES,
  backgroundMessageSchema,
  taskConsumer,
  taskMessageSchema,
  taskStream,
  taskSubject,
  type QueueName,
} from '@jetcel/contracts';
import { createReferenceDomain } from '@jetcel/reference';
import { eventually, type ServiceProcess } from '@jetcel/testing';
import { Stack } from '../test/stack.ts';
import { FUZZ_SEED, RawNats, headerBlock, isRunning, log, sleep, tableCounts } from './fuzz-support.ts';

/** Short, so unknown task names and newer versions are dead-lettered within the test. */
const GRACE_MS = 4000;

const domain = createReferenceDomain();
const KNOWN_TASKS = domain.tasks.names();
const known = (task: string) => domain.tasks.get(task) !== undefined;
/** Known tasks that may run standalone here: with no resources in the database they touch nothing. */
const HARMLESS_STANDALONE = [
  'jetcel.heartbeat_tick',
  'jetcel.reset_updating',
  'jetcel.stuck_provisioning',
  'instance.list_pull',
  'instance.background_pull',
  'instance.create_server',
  'volume.delete_volume',
].filter(known);

// ---- what a worker must do with a message -----------------------------------------------------

/**
 * - prompt: dropped at once (dead-lettered, or acked because it names no step or run);
 * - grace: a step naming a task or message version this worker lacks: handed back until the
 *   grace period is over, then dead-lettered;
 * - waits: a background message naming an unknown task: handed back every 30 s, with no grace
 *   period today (reported); allowed to stay in the stream.
 */
type Fate = 'prompt' | 'grace' | 'waits';

/** The worker's decision, from the contracts' schemas, as runtime/task-delivery and step-runner make it. */
function fateOf(body: Uint8Array): Fate {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(body).toString('utf8'));
  } catch {
    return 'prompt';
  }
  if (typeof json === 'object' && json !== null && (json as { kind?: unknown }).kind === 'background') {
    const background = backgroundMessageSchema.safeParse(json);
    return background.success && !known(background.data.task) ? 'waits' : 'prompt';
  }
  const step = taskMessageSchema.safeParse(json);
  if (step.success) return step.data.v > 1 || !known(step.data.task) ? 'grace' : 'prompt';
  const loose = taskMessageSchema.partial().loose().safeParse(json);
  const newer =
    loose.success &&
    typeof loose.data.v === 'number' &&
    loose.data.v > 1 &&
    Boolean(loose.data.executionId && loose.data.stepId && loose.data.task);
  return newer ? 'grace' : 'prompt';
}

// ---- generators -------------------------------------------------------------------------------

interface TaskCase {
  subject: string;
  body: Uint8Array;
  headers: Record<string, string>;
  label: string;
  msgId: string;
}

function makeCase(
  subject: string,
  body: string | Uint8Array,
  label: string,
  headers: Record<string, string>,
): TaskCase {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : Buffer.from(body);
  const value: TaskCase = { subject, body: bytes, headers, label, msgId: randomUUID() };
  Object.defineProperty(value, fc.toStringMethod, { value: () => describeCase(value) });
  return value;
}

function describeCase(value: TaskCase): string {
  const text = Buffer.from(value.body).toString('utf8');
  const preview =
    text.length > 200
      ? `${JSON.stringify(text.slice(0, 200))}… (${value.body.byteLength} bytes)`
      : JSON.stringify(text);
  return `[${value.label}] ${value.subject} ${preview} headers=${JSON.stringify(value.headers).slice(0, 200)}`;
}

const unknownTask = fc
  .oneof(
    fc.stringMatching(/^[a-z]{1,10}\.[a-z_]{1,16}$/),
    fc.string({ minLength: 1, maxLength: 40, unit: 'grapheme' }),
    fc.constantFrom(
      'instance.create_server ',
      'Instance.create_server',
      'jetcel.heartbeat_tick\u0000',
      'x'.repeat(5000),
    ),
  )
  .filter((task) => !known(task));
const anyTask = fc.oneof(fc.constantFrom(...KNOWN_TASKS), unknownTask);
const queueField = fc.oneof(
  { arbitrary: fc.constantFrom(...QUEUES), weight: 4 },
  fc.constantFrom('urgent', '', 'REGULAR'),
);
const argsArb = fc.oneof(
  { arbitrary: fc.jsonValue({ maxDepth: 3 }), weight: 4 },
  fc.constantFrom<unknown>(
    {},
    null,
    [],
    JSON.parse('{"__proto__":{"polluted":true}}'),
    JSON.parse('{"constructor":{"prototype":{"polluted":true}}}'),
  ),
);
const stepMessage = fc.record({
  v: fc.constant(1),
  task: anyTask,
  queue: queueField,
  executionId: fc.uuid(),
  stepId: fc.uuid(),
  attempt: fc.integer({ min: 1, max: 1000 }),
  args: argsArb,
});

/** One field of a step message broken: a wrong type, an out-of-range value, missing, or extra. */
const brokenStep = fc
  .tuple(
    stepMessage,
    fc.constantFrom('v', 'task', 'queue', 'executionId', 'stepId', 'attempt', 'args', 'extra'),
    fc.constantFrom<unknown>(0, -1, 1.5, '1', null, true, '', 2 ** 53, 1e308, [], {}, 'not-a-uuid', undefined),
  )
  .map(([message, field, value]) => {
    const copy: Record<string, unknown> = { ...message };
    if (field === 'extra') copy.unexpected = value ?? 1;
    else if (value === undefined) delete copy[field];
    else copy[field] = value;
    return { body: JSON.stringify(copy), label: `step with ${field}=${JSON.stringify(value) ?? 'missing'}` };
  });

const newerVersion = fc
  .tuple(stepMessage, fc.integer({ min: 2, max: 1000 }), fc.boolean())
  .map(([message, v, extraField]) => ({
    body: JSON.stringify({ ...message, v, ...(extraField ? { priority: 'high', trace: { id: 1 } } : {}) }),
    label: `step v${v}${extraField ? ' with new fields' : ''}`,
  }));

/** Arguments of 100 KiB to ~950 KiB (the task message limit is 512 KiB; max_payload 1 MiB). */
const hugeArgs = fc
  .tuple(stepMessage, fc.constantFrom(100_000, 512 * 1024 - 200, 512 * 1024 + 200, 950_000), fc.constantFrom('x', 'é'))
  .map(([message, size, unit]) => ({
    body: JSON.stringify({ ...message, args: { blob: unit.repeat(Math.floor(size / Buffer.byteLength(unit))) } }),
    label: `step with ${size}-byte args`,
  }));

const resourceRef = fc.oneof(
  fc.constant(null),
  fc.uuid().map((id) => `instance:${id}`),
  fc.uuid().map((id) => `volume:${id}`),
  // not a reference, or one the database cannot read
  fc.constantFrom('garbage', 'instance:not-a-uuid', 'nosuchtype:abc', ':', 'instance:'),
);
const backgroundMessage = fc.oneof(
  // a run that does not exist
  fc.record({
    v: fc.constant(1),
    kind: fc.constant('background'),
    task: anyTask,
    runId: fc.uuid(),
    resource: fc.oneof(resourceRef, fc.constantFrom('garbage', 'instance:not-a-uuid')),
    args: argsArb,
  }),
  // a standalone task (runId null)
  fc.record({
    v: fc.constant(1),
    kind: fc.constant('background'),
    task: fc.oneof(fc.constantFrom(...HARMLESS_STANDALONE), unknownTask),
    runId: fc.constant(null),
    resource: resourceRef,
    args: argsArb,
  }),
  // a newer version, naming a known or an unknown task: it waits for a newer worker
  fc.record({
    v: fc.integer({ min: 2, max: 99 }),
    kind: fc.constant('background'),
    task: anyTask,
    runId: fc.option(fc.uuid(), { nil: null }),
    resource: fc.constant(null),
    args: argsArb,
  }),
);
const brokenBackground = fc
  .tuple(
    backgroundMessage,
    fc.constantFrom('v', 'kind', 'task', 'runId', 'resource', 'args', 'extra'),
    fc.constantFrom<unknown>(0, -1, 1.5, '1', null, true, '', [], {}, 'not-a-uuid', undefined),
  )
  .map(([message, field, value]) => {
    const copy: Record<string, unknown> = { ...message };
    if (field === 'kind') copy.kind = 'background';
    if (field === 'extra') copy.unexpected = value ?? 1;
    else if (field !== 'kind') {
      if (value === undefined) delete copy[field];
      else copy[field] = value;
    }
    return { body: JSON.stringify(copy), label: `background with ${field}=${JSON.stringify(value) ?? 'missing'}` };
  });

const INVALID_UTF8 = [[0xff], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0x80], [0xf8, 0x88, 0x80, 0x80, 0x80]].map((bytes) =>
  Buffer.from(bytes),
);
const notJson = fc.oneof(
  fc.uint8Array({ maxLength: 512 }).map((bytes) => ({ body: Buffer.from(bytes), label: 'random bytes' })),
  fc.constantFrom('', ' ', '\uFEFF{}', '{', 'null', '[]', '"x"', '{"v":1,', '\u0000').map((body) => ({
    body: Buffer.from(body),
    label: 'not quite JSON',
  })),
  fc.tuple(stepMessage, fc.nat(), fc.constantFrom(...INVALID_UTF8)).map(([message, at, bad]) => {
    const text = Buffer.from(JSON.stringify(message));
    const cut = at % text.length;
    return { body: Buffer.concat([text.subarray(0, cut), bad]), label: 'truncated, then invalid UTF-8' };
  }),
  fc.constantFrom(10, 10_000, 100_000).map((depth) => ({
    body: Buffer.from('{"v":1,"args":' + '['.repeat(depth) + ']'.repeat(depth) + '}'),
    label: `nesting ${depth}`,
  })),
);

/** Header values nats.js sends (no CR or LF), U+0000 included. */
const headerValue = fc
  .oneof(
    fc.string({ maxLength: 40, unit: 'grapheme' }),
    fc.constantFrom('', 'x'.repeat(300), 'é'.repeat(200), 'system', '00-bad-traceparent-zz'),
    fc.constantFrom('nul\u0000inside'),
  )
  .map((value) => value.replace(/[\r\n]/g, ''));
const headersArb = fc
  .array(
    fc.tuple(
      fc.oneof(
        fc.constantFrom(HEADERS.actor, HEADERS.traceparent, 'Idempotency-Key'),
        fc.stringMatching(/^[!-9;-~]{1,16}$/),
      ),
      headerValue,
    ),
    { maxLength: 3 },
  )
  // Nats-* headers steer JetStream itself (expected stream, last sequence…): not the workers' input
  .map((entries) => Object.fromEntries(entries.filter(([name]) => !/^nats-/i.test(name))));

const taskCase: fc.Arbitrary<TaskCase> = fc
  .tuple(
    fc.constantFrom(...QUEUES.map(taskSubject)),
    fc.oneof(
      {
        arbitrary: fc
          .jsonValue({ maxDepth: 4 })
          .map((value) => ({ body: JSON.stringify(value), label: 'random JSON' })),
        weight: 3,
      },
      { arbitrary: notJson, weight: 3 },
      {
        arbitrary: stepMessage.map((message) => ({
          body: JSON.stringify(message),
          label: `step ${message.task.slice(0, 40)}`,
        })),
        weight: 4,
      },
      { arbitrary: brokenStep, weight: 3 },
      { arbitrary: newerVersion, weight: 1 },
      { arbitrary: hugeArgs, weight: 1 },
      {
        arbitrary: backgroundMessage.map((message) => ({
          body: JSON.stringify(message),
          label: `background ${message.task.slice(0, 40)}`,
        })),
        weight: 3,
      },
      { arbitrary: brokenBackground, weight: 2 },
    ),
    headersArb,
  )
  .map(([subject, { body, label }, headers]) => makeCase(subject, body, label, headers));

// ---- the stack --------------------------------------------------------------------------------

let stack: Stack;
const workers = new Map<QueueName, ServiceProcess>();
const published = new Map<string, { value: TaskCase; fate: Fate; stream: string }>();

before(async () => {
  stack = await Stack.start({ env: { JETCEL_UNKNOWN_TASK_GRACE_MS: String(GRACE_MS) } });
  await stack.spawn('executor');
  for (const queue of QUEUES) workers.set(queue, await stack.spawn('worker', { queue }));
});
after(async () => {
  await stack?.stop();
});

const streamOf = (subject: string) => taskStream(subject.slice('tasks.'.length) as QueueName);

/** Message ids still in the three task streams. */
async function remaining(): Promise<Map<string, string>> {
  const ids = new Map<string, string>();
  for (const queue of QUEUES) {
    const stream = taskStream(queue);
    if ((await streamInfo(stack.bus, stream)).messages === 0) continue;
    for (const message of await readStreamMessages(stack.bus, stream, { subject: taskSubject(queue) }))
      ids.set(message.headers[HEADERS.msgId] ?? `seq ${message.seq}`, stream);
  }
  return ids;
}

/** Waits until every message left in the streams is one whose fate allows it to be there. */
async function drained(allowed: ReadonlySet<Fate>, timeoutMs: number): Promise<Map<string, string>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = await remaining();
    const unexpected = [...left.keys()].filter((id) => !allowed.has(published.get(id)?.fate ?? 'prompt'));
    if (unexpected.length === 0) return left;
    if (Date.now() > deadline) {
      const cases = unexpected.slice(0, 5).map((id) => {
        const entry = published.get(id);
        return entry ? `${entry.fate}: ${describeCase(entry.value)}` : `${id} (not published by this test)`;
      });
      assert.fail(`${unexpected.length} message(s) never left their stream:\n${cases.join('\n')}`);
    }
    await sleep(250);
  }
}

function assertWorkersUp(): void {
  for (const [queue, worker] of workers) assert.ok(isRunning(worker), `worker-${queue} is still running`);
}

// ---- the properties ---------------------------------------------------------------------------

test(`G2: hostile task messages on every queue: workers survive, nothing is written, every message leaves (seed ${FUZZ_SEED})`, async () => {
  const started = performance.now();
  const before = await tableCounts(stack);
  const letters = Number((await stack.sql<{ n: string }>('select count(*) as n from jetcel_dead_letter'))[0]?.n);
  const drainTimes: number[] = [];
  await fc.assert(
    fc.asyncProperty(fc.array(taskCase, { minLength: 20, maxLength: 40 }), async (batch) => {
      for (const value of batch) {
        published.set(value.msgId, { value, fate: fateOf(value.body), stream: streamOf(value.subject) });
        await publish(stack.bus, value.subject, value.body, { msgId: value.msgId, headers: value.headers });
      }
      const batchStarted = performance.now();
      // Every message that must go at once has gone; those waiting for a newer worker may stay.
      await drained(new Set<Fate>(['grace', 'waits']), 15_000);
      drainTimes.push(performance.now() - batchStarted);
      assertWorkersUp();
    }),
    { seed: FUZZ_SEED, numRuns: 20, endOnFailure: true, includeErrorInReport: true },
  );
  const barrageMs = performance.now() - started;
  // After the grace period, steps naming unknown tasks or versions are dead-lettered too.
  const waitingSince = performance.now();
  const left = await drained(new Set<Fate>(['waits']), GRACE_MS + 20_000);
  const graceDrainMs = performance.now() - waitingSince;
  assertWorkersUp();
  assert.deepEqual(await tableCounts(stack), before, 'nothing written to resource, execution or outbox tables');
  for (const queue of QUEUES) {
    const info = await consumerInfo(stack.bus, taskStream(queue), taskConsumer(queue));
    assert.equal(info.numPending, 0, `${queue}: everything was delivered`);
    const stillThere = [...left.values()].filter((stream) => stream === taskStream(queue)).length;
    assert.equal(info.numAckPending, stillThere, `${queue}: only the waiting messages are pending`);
  }
  const fates = { prompt: 0, grace: 0, waits: 0 };
  for (const { fate } of published.values()) fates[fate]++;
  const byReason = await stack.sql<{ reason: string; n: string }>(
    'select reason, count(*) as n from jetcel_dead_letter group by reason order by reason',
  );
  const perQueue = Object.fromEntries(
    QUEUES.map((queue) => [queue, [...published.values()].filter(({ stream }) => stream === taskStream(queue)).length]),
  );
  log('task barrage', {
    published: published.size,
    perQueue,
    fates,
    leftWaiting: left.size,
    deadLetters: Object.fromEntries(byReason.map(({ reason, n }) => [reason, Number(n)])),
    newDeadLetters:
      Number((await stack.sql<{ n: string }>('select count(*) as n from jetcel_dead_letter'))[0]?.n) - letters,
    barrageMs: Math.round(barrageMs),
    slowestBatchDrainMs: Math.round(Math.max(...drainTimes)),
    graceDrainMs: Math.round(graceDrainMs),
  });
  const errors: Record<string, number> = {};
  for (const [queue, worker] of workers)
    errors[queue] = worker.output().filter((line) => line.includes('"task handler failed"')).length;
  log('worker "task handler failed" lines', errors);
});

test('G2: after the barrage the queues keep flowing: a normal create reaches OK in normal time', async () => {
  const started = performance.now();
  const created = await stack.ok<{ id: string }>('cmd.instance.create', {
    name: 'after-fuzz',
    cloudSettingsId: 'default',
  });
  await stack.waitForState(created.id, 'OK', 20_000);
  const ms = Math.round(performance.now() - started);
  log('create after the barrage', { ms });
  assert.ok(ms < 15_000, `create took ${ms} ms`);
  assertWorkersUp();
});

// ---- regressions: messages the fuzzers once found mishandled ------------------------------------

async function leavesStream(subject: string, body: string, headers: Record<string, string>, timeoutMs: number) {
  const msgId = randomUUID();
  await publish(stack.bus, subject, body, { msgId, headers });
  await eventually(async () => !(await remaining()).has(msgId), {
    timeoutMs,
    message: `${subject} ${body.slice(0, 120)} never left the stream`,
  });
}

test('an undecodable message with U+0000 in a header value is dead-lettered, not redelivered every second', async () => {
  await leavesStream('tasks.regular', 'not json', { [HEADERS.actor]: 'a\u0000b' }, 5000);
});

test('a standalone background message whose resource is not a readable reference leaves the stream', async () => {
  for (const resource of ['garbage', 'instance:not-a-uuid', 'nosuchtype:abc']) {
    const body = { v: 1, kind: 'background', task: 'jetcel.heartbeat_tick', runId: null, resource, args: {} };
    await leavesStream('tasks.background', JSON.stringify(body), {}, 5000);
  }
});

test('a background message of a newer version is not run by this worker (it waits, as steps do)', async () => {
  const msgId = randomUUID();
  const body = { v: 99, kind: 'background', task: 'jetcel.heartbeat_tick', runId: null, resource: null, args: {} };
  await publish(stack.bus, 'tasks.background', JSON.stringify(body), { msgId });
  await sleep(3000);
  const ran = workers
    .get('background')!
    .output()
    .some((line) => line.includes('"standalone task finished"') && line.includes(msgId));
  assert.equal(ran, false, 'a v1 worker ran a v99 message');
});

test('a background message naming an unknown task is dead-lettered after the grace period, as a step is', async () => {
  const body = { v: 1, kind: 'background', task: 'no.such_task', runId: null, resource: null, args: {} };
  await leavesStream('tasks.background', JSON.stringify(body), {}, GRACE_MS + 6000);
});

test('a message whose header name nats.js cannot parse does not stall the messages fetched with it', async () => {
  const raw = await RawNats.connect(stack.nats.url);
  try {
    const poisonId = randomUUID();
    const ack = await raw.request(
      'tasks.heavy',
      Buffer.from('{"poison":true}'),
      headerBlock([
        [HEADERS.msgId, poisonId],
        ['Bad Key', 'v'],
      ]),
    );
    assert.ok(ack && !ack.payload.toString().includes('error'), 'published');
    // A message right behind it (fetched by the same pull) must still be handled promptly; it names
    // no step, so it is dropped.
    const body = {
      v: 1,
      task: 'instance.create_snapshot',
      queue: 'heavy',
      executionId: randomUUID(),
      stepId: randomUUID(),
      attempt: 1,
      args: {},
    };
    await leavesStream('tasks.heavy', JSON.stringify(body), {}, 5000);
    await eventually(async () => !(await remaining()).has(poisonId), {
      timeoutMs: 5000,
      message: 'the poison message never left',
    });
  } finally {
    raw.close();
  }
});
