import { PollLimitError, TaskError } from './errors.ts';
import type { FailureInfo } from './plan.ts';
import { backoffDelay } from './retry.ts';
import type { TaskDefinition } from './task.ts';

export function describeFailure(error: unknown): FailureInfo {
  if (error instanceof Error) {
    const message = error instanceof TaskError && error.userMessage ? error.userMessage : error.message;
    return {
      message: message || error.name,
      traceback: error.stack ?? `${error.name}: ${error.message}`,
      errorName: error.name,
    };
  }
  const text = typeof error === 'string' ? error : safeStringify(error);
  return { message: text, traceback: text, errorName: 'NonError' };
}

/** Only TaskErrors marked retryable are retried; anything unexpected fails at once. */
export function isRetryable(error: unknown): boolean {
  return error instanceof TaskError && error.retryable;
}

export type ErrorDecision = { kind: 'retry'; delayMs: number } | { kind: 'fail'; failure: FailureInfo };

export function decideOnError(task: TaskDefinition<unknown, unknown>, attempt: number, error: unknown): ErrorDecision {
  if (isRetryable(error) && attempt < task.retry.maxAttempts) {
    return { kind: 'retry', delayMs: backoffDelay(task.retry, attempt) };
  }
  return { kind: 'fail', failure: describeFailure(error) };
}

export type PollDecision = { kind: 'repoll'; delayMs: number } | { kind: 'fail'; failure: FailureInfo };

/** `pollCount` is the number of polls done including the one that just asked for another. */
export function decideOnPoll(
  task: TaskDefinition<unknown, unknown>,
  pollCount: number,
  afterMs?: number,
): PollDecision {
  if (pollCount >= task.maxPolls)
    return { kind: 'fail', failure: describeFailure(new PollLimitError(task.name, pollCount)) };
  return { kind: 'repoll', delayMs: afterMs ?? task.pollIntervalMs };
}

/** Thrown non-errors can be anything (a BigInt, a cycle): describing them must never throw. */
function safeStringify(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
