import { setTimeout as sleep } from 'node:timers/promises';
import { inspect } from 'node:util';

export interface EventuallyOptions {
  /** Give up after this long (default 10 000 ms). */
  timeoutMs?: number;
  /** Pause between two probes (default 50 ms). */
  intervalMs?: number;
  /** Put at the start of the timeout error, to say what was awaited. */
  message?: string;
  /** Stop polling early: eventually() rejects with the signal's reason. */
  signal?: AbortSignal;
}

export type EventuallyProbe<T> = () => Promise<T | undefined | null | false> | T | undefined | null | false;

const pending = Symbol('pending');

/**
 * Calls `probe` every `intervalMs` until it returns (or resolves to) a truthy
 * value, and returns that value. A probe that throws counts as "not yet".
 * On timeout it throws an Error that contains `message` and the last error
 * thrown or the last value returned by the probe. A probe that hangs is
 * abandoned when the time is up.
 */
export async function eventually<T>(probe: EventuallyProbe<T>, options: EventuallyOptions = {}): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const intervalMs = options.intervalMs ?? 50;
  const deadline = Date.now() + timeoutMs;
  let attempts = 0;
  let last: { kind: 'none' } | { kind: 'value'; value: unknown } | { kind: 'error'; error: unknown };

  for (;;) {
    options.signal?.throwIfAborted();
    attempts += 1;
    const remaining = deadline - Date.now();
    try {
      const result = await withDeadline(Promise.resolve().then(probe), remaining);
      if (result === pending) {
        last = { kind: 'error', error: new Error(`probe still running after ${timeoutMs} ms`) };
      } else if (result) {
        return result;
      } else {
        last = { kind: 'value', value: result };
      }
    } catch (error) {
      last = { kind: 'error', error };
    }
    const left = deadline - Date.now();
    if (left <= 0) break;
    // the last probe runs right at the deadline
    await sleep(Math.min(intervalMs, left), undefined, options.signal ? { signal: options.signal } : undefined).catch(
      () => {},
    );
  }

  const what = options.message ?? 'condition not met';
  const detail =
    last.kind === 'error'
      ? `last error: ${describeError(last.error)}`
      : last.kind === 'value'
        ? `last value: ${inspect(last.value)}`
        : 'the probe never completed';
  const error = new Error(`${what} (eventually: timed out after ${timeoutMs} ms, ${attempts} attempts; ${detail})`);
  if (last.kind === 'error') error.cause = last.error;
  throw error;
}

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : inspect(error);
}

function withDeadline<V>(promise: Promise<V>, ms: number): Promise<V | typeof pending> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<typeof pending>((resolve) => {
    timer = setTimeout(() => resolve(pending), Math.max(0, ms));
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
