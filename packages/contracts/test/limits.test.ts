import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_COMMAND_BYTES, MAX_TASK_ARGS_BYTES, MAX_TASK_MESSAGE_BYTES } from '../src/index.ts';

const ONE_MIB = 1024 * 1024; // nats-server's default max_payload

test('G1: raw commands above 256 KiB are refused', () => {
  assert.equal(MAX_COMMAND_BYTES, 256 * 1024);
});

test('G1: task messages stay at or below half of the default 1 MiB max_payload', () => {
  assert.ok(MAX_TASK_MESSAGE_BYTES <= ONE_MIB / 2, `${MAX_TASK_MESSAGE_BYTES}`);
  assert.ok(MAX_TASK_MESSAGE_BYTES > 0);
});

test('G1: task arguments are capped below the task message limit, leaving room for the envelope', () => {
  assert.ok(MAX_TASK_ARGS_BYTES > 0);
  assert.ok(MAX_TASK_ARGS_BYTES < MAX_TASK_MESSAGE_BYTES, `${MAX_TASK_ARGS_BYTES} < ${MAX_TASK_MESSAGE_BYTES}`);
  assert.equal(MAX_TASK_ARGS_BYTES, 128 * 1024);
});

test('G1: a command fits in one message', () => {
  assert.ok(MAX_COMMAND_BYTES < ONE_MIB);
});
