import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ERROR_CODES, okReply, replySchema, type ErrorCode, type Reply } from '../src/index.ts';

test('G1: replySchema accepts the ok envelope and keeps its data', () => {
  const reply = { ok: true, data: { executionId: 'e1', noop: false } };
  assert.deepEqual(replySchema.parse(reply), reply);
  assert.deepEqual(replySchema.parse({ ok: true, data: null }), { ok: true, data: null });
});

test('G1: replySchema accepts the error envelope, with and without details', () => {
  const withDetails = {
    ok: false,
    error: { code: 'INVALID_STATE', message: 'it is CREATING', retryable: false, details: { state: 'CREATING' } },
  };
  assert.deepEqual(replySchema.parse(withDetails), withDetails);
  const without = { ok: false, error: { code: 'UNAVAILABLE', message: 'database is down', retryable: true } };
  assert.deepEqual(replySchema.parse(without), without);
});

test('G1: replySchema accepts every defined error code', () => {
  for (const code of Object.keys(ERROR_CODES) as ErrorCode[]) {
    const reply = { ok: false, error: { code, message: 'm', retryable: ERROR_CODES[code].retryable } };
    assert.equal(replySchema.safeParse(reply).success, true, code);
  }
});

test('G1: replySchema rejects an unknown error code', () => {
  const result = replySchema.safeParse({ ok: false, error: { code: 'TEAPOT', message: 'no', retryable: false } });
  assert.equal(result.success, false);
  assert.equal(
    replySchema.safeParse({ ok: false, error: { code: 'invalid_state', message: 'no', retryable: false } }).success,
    false,
  );
});

test('G1: replySchema rejects malformed envelopes', () => {
  const bad: unknown[] = [
    null,
    {},
    { ok: 'true', data: 1 },
    { ok: false },
    { ok: false, data: 1 },
    { ok: false, error: { code: 'INTERNAL', message: 'x' } },
    { ok: false, error: { code: 'INTERNAL', message: 1, retryable: true } },
    { ok: false, error: { code: 'INTERNAL', message: 'x', retryable: 'yes' } },
  ];
  for (const value of bad) assert.equal(replySchema.safeParse(value).success, false, JSON.stringify(value));
});

test('okReply builds the ok envelope', () => {
  const reply: Reply<{ id: string }> = okReply({ id: 'x' });
  assert.deepEqual(reply, { ok: true, data: { id: 'x' } });
  assert.deepEqual(replySchema.parse(reply), reply);
});
