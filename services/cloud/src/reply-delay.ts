import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * How long the reply to the current HTTP request must be held back, set by a
 * fired 'delay' fault rule. The models run without HTTP (CloudState), so the
 * delay travels from the fault check to http.ts through an async-local slot.
 */
export interface ReplyDelay {
  delayMs: number;
}

const current = new AsyncLocalStorage<ReplyDelay>();

/** Runs `handle` (one HTTP request) with a fresh slot; returns the slot so that the caller can read the delay. */
export function withReplyDelay<T>(handle: () => Promise<T>): { slot: ReplyDelay; result: Promise<T> } {
  const slot: ReplyDelay = { delayMs: 0 };
  return { slot, result: current.run(slot, handle) };
}

/** Holds back the reply of the current HTTP request by at least `delayMs`; a no-op outside a request. */
export function delayReply(delayMs: number): void {
  const slot = current.getStore();
  if (slot !== undefined) slot.delayMs = Math.max(slot.delayMs, delayMs);
}
