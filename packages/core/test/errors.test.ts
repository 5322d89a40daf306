import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ERROR_CODES, isErrorCode } from '@jetcel/contracts';
import {
  BackendError,
  IdempotencyConflictError,
  IllegalTransitionError,
  InvalidStateError,
  JetcelError,
  NotFoundError,
  PayloadTooLargeError,
  PollLimitError,
  ResourceGoneError,
  TaskError,
  TransientError,
  UnavailableError,
  UnknownSubjectError,
  ValidationError,
} from '../src/index.ts';

test('G1: each JetcelError subclass carries its stable code, its own name and a clear message', () => {
  const cases: Array<[JetcelError, string, string, string]> = [
    [
      new ValidationError('name is required', { field: 'name' }),
      'VALIDATION_FAILED',
      'ValidationError',
      'name is required',
    ],
    [
      new PayloadTooLargeError(300_000, 262_144),
      'PAYLOAD_TOO_LARGE',
      'PayloadTooLargeError',
      'Payload of 300000 bytes exceeds the limit of 262144 bytes',
    ],
    [new NotFoundError('Resource', 'vm:1'), 'NOT_FOUND', 'NotFoundError', 'Resource vm:1 was not found'],
    [
      new UnknownSubjectError('cmd.nope.x'),
      'UNKNOWN_SUBJECT',
      'UnknownSubjectError',
      'No handler for subject cmd.nope.x',
    ],
    [new InvalidStateError('it is CREATING'), 'INVALID_STATE', 'InvalidStateError', 'it is CREATING'],
    [
      new IllegalTransitionError('recover', 'OK'),
      'INVALID_STATE',
      'IllegalTransitionError',
      'Cannot apply transition recover to a resource in state OK',
    ],
    [
      new IdempotencyConflictError('k-1'),
      'IDEMPOTENCY_CONFLICT',
      'IdempotencyConflictError',
      'Idempotency-Key "k-1" was already used for a different request',
    ],
    [new UnavailableError('database is down'), 'UNAVAILABLE', 'UnavailableError', 'database is down'],
  ];
  for (const [error, code, name, message] of cases) {
    assert.ok(error instanceof JetcelError && error instanceof Error, name);
    assert.equal(error.code, code, name);
    assert.ok(isErrorCode(error.code), name);
    assert.equal(error.name, name);
    assert.equal(error.message, message);
  }
});

test('G1: error details are kept for the reply', () => {
  assert.deepEqual(new ValidationError('bad', { field: 'name' }).details, { field: 'name' });
  assert.deepEqual(new PayloadTooLargeError(10, 5).details, { size: 10, limit: 5 });
  assert.deepEqual(new NotFoundError('Execution', 'e1').details, { what: 'Execution', id: 'e1' });
  assert.deepEqual(new UnknownSubjectError('cmd.x.y').details, { subject: 'cmd.x.y' });
  assert.deepEqual(new IdempotencyConflictError('k').details, { key: 'k' });
  assert.equal(new InvalidStateError('x').details, undefined);
});

test('G4: UNAVAILABLE is the retryable code; a cause is chained', () => {
  const cause = new Error('ECONNREFUSED');
  const error = new UnavailableError('PostgreSQL is unavailable', { cause });
  assert.equal(error.cause, cause);
  assert.equal(ERROR_CODES[error.code].retryable, true);
  assert.equal(ERROR_CODES[new ValidationError('x').code].retryable, false);
  assert.equal(new ValidationError('x').cause, undefined);
});

test('C7: TaskError subclasses: retryable only when asked (TransientError always), userMessage and name kept', () => {
  assert.equal(new TaskError('x').retryable, false);
  assert.equal(new TaskError('x', { retryable: true }).retryable, true);
  assert.equal(new BackendError('x').retryable, false);
  assert.equal(new TransientError('x').retryable, true);
  assert.equal(new ResourceGoneError('vm:1').retryable, false);
  assert.equal(new PollLimitError('t', 3).retryable, false);
  const backend = new BackendError('HTTP 500', { userMessage: 'The cloud failed' });
  assert.equal(backend.userMessage, 'The cloud failed');
  assert.equal(backend.name, 'BackendError');
  assert.ok(backend instanceof TaskError);
  assert.equal(new TaskError('x').userMessage, undefined);
  const cause = new Error('socket hang up');
  assert.equal(new TransientError('timeout', { cause }).cause, cause);
  assert.equal(new TransientError('timeout').name, 'TransientError');
  assert.equal(new ResourceGoneError('vm:1').name, 'ResourceGoneError');
});

test('C2/[18]: a vanished resource fails its task with a clear message naming the reference', () => {
  assert.equal(new ResourceGoneError('vm:42').message, 'Resource vm:42 no longer exists; it was probably deleted');
});
