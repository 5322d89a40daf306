import type { CallOptions } from './cloud-client.ts';

/** Retry and timeout of every task that makes one backend call. */
export const BACKEND_CALL = { retry: { maxAttempts: 3, initialDelayMs: 1000 }, timeoutMs: 30_000 } as const;

/** What every backend call carries from its step: abort, the step's idempotency key, the lease's fencing. */
export function callOptions(
  ctx: Required<Pick<CallOptions, 'signal' | 'idempotencyKey' | 'fencingToken' | 'fencingSlot'>>,
): CallOptions {
  return {
    signal: ctx.signal,
    idempotencyKey: ctx.idempotencyKey,
    fencingToken: ctx.fencingToken,
    fencingSlot: ctx.fencingSlot,
  };
}
