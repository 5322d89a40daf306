import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '../src/service/logger.ts';

function capture(options: Parameters<typeof createLogger>[0] = {}) {
  const lines: string[] = [];
  const logger = createLogger({ ...options, write: (line) => lines.push(line) });
  return { logger, lines, entries: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>) };
}

test('a line is one JSON object with a level label, an ISO time, msg, bindings and fields', () => {
  const { logger, lines, entries } = capture({ bindings: { service: 'worker-regular', pid: 42 } });
  logger.info('worker ready', { queue: 'regular', concurrency: 16 });
  assert.equal(lines.length, 1);
  assert.ok(!lines[0]?.includes('\n'));
  const [entry] = entries();
  assert.equal(entry?.level, 'info');
  assert.equal(entry?.msg, 'worker ready');
  assert.equal(entry?.service, 'worker-regular');
  assert.equal(entry?.pid, 42);
  assert.equal(entry?.queue, 'regular');
  assert.equal(entry?.concurrency, 16);
  assert.match(String(entry?.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.equal(entry?.hostname, undefined);
  // The Stack harness waits for this exact shape.
  assert.match(lines[0] ?? '', /"msg":"worker ready"/);
});

test('child loggers merge their fields: a later child overrides, no key is repeated', () => {
  const { logger, lines, entries } = capture();
  const step = logger
    .child({ executionId: 'e1', stepId: 's1', task: 'instance.create', actor: 'alice', resource: null })
    .child({ step: 'main:0.0', resource: 'instance:r1', attempt: 1 });
  step.warn('step failed', { error: 'boom' });
  const [entry] = entries();
  assert.deepEqual(
    { ...entry, time: undefined },
    {
      level: 'warn',
      time: undefined,
      msg: 'step failed',
      executionId: 'e1',
      stepId: 's1',
      task: 'instance.create',
      actor: 'alice',
      resource: 'instance:r1',
      step: 'main:0.0',
      attempt: 1,
      error: 'boom',
    },
  );
  assert.equal(lines[0]?.match(/"resource":/g)?.length, 1);
});

test('levels below the threshold are dropped; errors are serialised with their stack', () => {
  const { logger, entries } = capture({ level: 'warn' });
  logger.debug('hidden');
  logger.info('hidden too');
  logger.error('failed', { error: new TypeError('bad input') });
  const all = entries();
  assert.equal(all.length, 1);
  const error = all[0]?.error as { name: string; message: string; stack: string };
  assert.equal(error.name, 'TypeError');
  assert.equal(error.message, 'bad input');
  assert.match(error.stack, /TypeError: bad input/);
});

test('a mixin adds its fields to every line', () => {
  const { logger, entries } = capture({ mixin: () => ({ traceId: 'abc' }) });
  logger.child({ a: 1 }).info('one');
  logger.info('two');
  assert.deepEqual(
    entries().map((entry) => entry.traceId),
    ['abc', 'abc'],
  );
});

test('pretty output is human-readable, not JSON', async () => {
  const { logger, lines } = capture({ pretty: true });
  logger.info('executor ready', { subjects: 3 });
  await new Promise((resolve) => setImmediate(resolve));
  const text = lines.join('\n');
  assert.match(text, /INFO/);
  assert.match(text, /executor ready/);
  assert.match(text, /subjects: 3/);
  assert.throws(() => JSON.parse(lines[0] ?? ''));
});
