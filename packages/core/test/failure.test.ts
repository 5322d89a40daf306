import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  BackendError,
  PollLimitError,
  ResourceGoneError,
  TaskError,
  TransientError,
  decideOnError,
  decideOnPoll,
  defineTask,
  describeFailure,
  isRetryable,
} from '../src/index.ts';

const noop = async (): Promise<void> => {};

/** Deterministic delays: 100, 200, 400, ... (no jitter). */
const task = defineTask({
  name: 'demo.flaky',
  retry: { maxAttempts: 3, initialDelayMs: 100, multiplier: 2, jitter: 0 },
  pollIntervalMs: 250,
  maxPolls: 3,
  run: noop,
});

test('C7: isRetryable is true only for TaskErrors marked retryable', () => {
  assert.equal(isRetryable(new TransientError('timeout')), true);
  assert.equal(isRetryable(new TaskError('x', { retryable: true })), true);
  assert.equal(isRetryable(new TaskError('x')), false);
  assert.equal(isRetryable(new BackendError('x')), false);
  assert.equal(isRetryable(new ResourceGoneError('vm:1')), false);
  assert.equal(isRetryable(new Error('x')), false);
  assert.equal(isRetryable({ retryable: true }), false);
  assert.equal(isRetryable('timeout'), false);
});

test('C7/[26]: a TransientError retries with backoff until maxAttempts, then fails', () => {
  const error = new TransientError('backend timed out');
  assert.deepEqual(decideOnError(task, 1, error), { kind: 'retry', delayMs: 100 });
  assert.deepEqual(decideOnError(task, 2, error), { kind: 'retry', delayMs: 200 });
  const last = decideOnError(task, 3, error);
  assert.equal(last.kind, 'fail');
  assert.deepEqual(last, {
    kind: 'fail',
    failure: { message: 'backend timed out', traceback: error.stack, errorName: 'TransientError' },
  });
  assert.equal(decideOnError(task, 4, error).kind, 'fail');
});

test('C7: with the default policy, a transient error retries after a jittered 1 s, and fails on attempt 3', () => {
  const defaults = defineTask({ name: 'demo.defaults', run: noop });
  const first = decideOnError(defaults, 1, new TransientError('x'));
  assert.equal(first.kind, 'retry');
  assert.ok(first.kind === 'retry' && first.delayMs >= 800 && first.delayMs <= 1200, JSON.stringify(first));
  const second = decideOnError(defaults, 2, new TransientError('x'));
  assert.ok(second.kind === 'retry' && second.delayMs >= 1600 && second.delayMs <= 2400, JSON.stringify(second));
  assert.equal(decideOnError(defaults, 3, new TransientError('x')).kind, 'fail');
});

test('C7: a task with maxAttempts 1 never retries a transient error', () => {
  const once = defineTask({ name: 'demo.once', retry: { maxAttempts: 1 }, run: noop });
  assert.equal(decideOnError(once, 1, new TransientError('x')).kind, 'fail');
});

test('C7: a BackendError (non-retryable) fails on the first attempt', () => {
  const error = new BackendError('quota exceeded');
  assert.deepEqual(decideOnError(task, 1, error), {
    kind: 'fail',
    failure: { message: 'quota exceeded', traceback: error.stack, errorName: 'BackendError' },
  });
});

test('C7: a plain Error fails on the first attempt, its text as the message', () => {
  const error = new Error('unexpected null');
  assert.deepEqual(decideOnError(task, 1, error), {
    kind: 'fail',
    failure: { message: 'unexpected null', traceback: error.stack, errorName: 'Error' },
  });
});

test('B1: describeFailure prefers the user-facing message a typed backend error carries, and keeps the stack', () => {
  const error = new BackendError('HTTP 409 from nova: {"conflict"}', { userMessage: 'Flavor is not available' });
  const failure = describeFailure(error);
  assert.equal(failure.message, 'Flavor is not available');
  assert.equal(failure.errorName, 'BackendError');
  assert.equal(failure.traceback, error.stack);
  assert.ok(failure.traceback.length > 0);
  assert.match(failure.traceback, /HTTP 409 from nova/);
});

test('B1: a retryable error that finally fails also reports its userMessage', () => {
  const error = new TransientError('ETIMEDOUT 10.0.0.1:443', { userMessage: 'The cloud did not answer in time' });
  const decision = decideOnError(task, 3, error);
  assert.ok(decision.kind === 'fail');
  assert.equal(decision.failure.message, 'The cloud did not answer in time');
});

test('B1: describeFailure falls back to the exception text for an empty userMessage, and to the name for an empty message', () => {
  assert.equal(describeFailure(new BackendError('raw text', { userMessage: '' })).message, 'raw text');
  assert.equal(describeFailure(new Error('')).message, 'Error');
  assert.equal(describeFailure(new TaskError('')).message, 'TaskError');
});

test('B1: an Error without a stack gets "<name>: <message>" as its traceback', () => {
  const error = new TypeError('bad');
  Object.defineProperty(error, 'stack', { value: undefined });
  assert.deepEqual(describeFailure(error), { message: 'bad', traceback: 'TypeError: bad', errorName: 'TypeError' });
});

test('B1: non-Error values are described as text, with errorName NonError', () => {
  assert.deepEqual(describeFailure('boom'), { message: 'boom', traceback: 'boom', errorName: 'NonError' });
  assert.deepEqual(describeFailure({ code: 7 }), {
    message: '{"code":7}',
    traceback: '{"code":7}',
    errorName: 'NonError',
  });
  assert.deepEqual(describeFailure(42), { message: '42', traceback: '42', errorName: 'NonError' });
  assert.deepEqual(describeFailure(undefined), { message: 'undefined', traceback: 'undefined', errorName: 'NonError' });
});

test('B1: describeFailure never throws, even for a value JSON cannot serialise', () => {
  const circular: Record<string, unknown> = {};
  circular.self = circular;
  assert.equal(describeFailure(10n).errorName, 'NonError');
  assert.equal(describeFailure(circular).errorName, 'NonError');
});

test('C2: ResourceGoneError says the resource was probably deleted and is not retried', () => {
  const decision = decideOnError(task, 1, new ResourceGoneError('vm:42'));
  assert.ok(decision.kind === 'fail');
  assert.equal(decision.failure.message, 'Resource vm:42 no longer exists; it was probably deleted');
  assert.equal(decision.failure.errorName, 'ResourceGoneError');
});

test('C5: decideOnPoll re-polls after the task interval, or the delay the task asked for', () => {
  assert.deepEqual(decideOnPoll(task, 1), { kind: 'repoll', delayMs: 250 });
  assert.deepEqual(decideOnPoll(task, 2), { kind: 'repoll', delayMs: 250 });
  assert.deepEqual(decideOnPoll(task, 1, 40), { kind: 'repoll', delayMs: 40 });
  assert.deepEqual(decideOnPoll(task, 1, 0), { kind: 'repoll', delayMs: 0 });
});

test('C5: decideOnPoll fails with a PollLimitError message once pollCount reaches maxPolls', () => {
  const decision = decideOnPoll(task, 3);
  assert.deepEqual(decision.kind, 'fail');
  assert.ok(decision.kind === 'fail');
  assert.equal(decision.failure.message, 'Task demo.flaky gave up after 3 polls');
  assert.equal(decision.failure.errorName, 'PollLimitError');
  assert.match(decision.failure.traceback, /gave up after 3 polls/);
  assert.equal(decideOnPoll(task, 4, 10).kind, 'fail');
  assert.equal(new PollLimitError('demo.flaky', 3).message, 'Task demo.flaky gave up after 3 polls');
});

test('C5/[23]: with the defaults a task re-polls every 5 s up to 1200 polls', () => {
  const poller = defineTask({ name: 'demo.poller', run: noop });
  assert.deepEqual(decideOnPoll(poller, 1), { kind: 'repoll', delayMs: 5000 });
  assert.deepEqual(decideOnPoll(poller, 1199), { kind: 'repoll', delayMs: 5000 });
  const exhausted = decideOnPoll(poller, 1200);
  assert.ok(exhausted.kind === 'fail');
  assert.equal(exhausted.failure.message, 'Task demo.poller gave up after 1200 polls');
});
