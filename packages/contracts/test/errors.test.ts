import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ERROR_CODES, isErrorCode, isRetryableCode, type ErrorCode } from '../src/index.ts';

const CODES = Object.keys(ERROR_CODES) as ErrorCode[];

test('G1: the closed set of error codes', () => {
  assert.deepEqual(CODES.sort(), [
    'FORBIDDEN',
    'IDEMPOTENCY_CONFLICT',
    'INTERNAL',
    'INVALID_STATE',
    'NOT_FOUND',
    'PAYLOAD_TOO_LARGE',
    'UNAUTHENTICATED',
    'UNAVAILABLE',
    'UNKNOWN_SUBJECT',
    'VALIDATION_FAILED',
  ]);
});

test('G1: every error code has a boolean retryable, which isRetryableCode reports', () => {
  for (const code of CODES) {
    assert.equal(typeof ERROR_CODES[code].retryable, 'boolean', code);
    assert.equal(isRetryableCode(code), ERROR_CODES[code].retryable, code);
  }
});

test('G4: UNAVAILABLE is retryable', () => {
  assert.equal(isRetryableCode('UNAVAILABLE'), true);
});

test('G1: client mistakes are not retryable: VALIDATION_FAILED, PAYLOAD_TOO_LARGE, NOT_FOUND, INVALID_STATE, IDEMPOTENCY_CONFLICT, UNAUTHENTICATED, FORBIDDEN', () => {
  for (const code of [
    'VALIDATION_FAILED',
    'PAYLOAD_TOO_LARGE',
    'NOT_FOUND',
    'INVALID_STATE',
    'IDEMPOTENCY_CONFLICT',
    'UNAUTHENTICATED',
    'FORBIDDEN',
  ] as const) {
    assert.equal(isRetryableCode(code), false, code);
  }
});

test('G1: isErrorCode accepts exactly the codes, not inherited names or other cases', () => {
  for (const code of CODES) assert.equal(isErrorCode(code), true, code);
  for (const value of ['', 'toString', 'constructor', '__proto__', 'unavailable', 'TIMEOUT', 'INVALID_STATE ']) {
    assert.equal(isErrorCode(value), false, JSON.stringify(value));
  }
});
