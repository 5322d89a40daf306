import { defineTask, done } from '@jetcel/core';
import type { ReferenceServices } from './services.ts';

export const HEARTBEAT_TICK_TASK = 'jetcel.heartbeat_tick';

/** Test only: a background task with no equality that records each run. */
export const heartbeatTickTask = defineTask<unknown, ReferenceServices>({
  name: HEARTBEAT_TICK_TASK,
  queue: 'background',
  equality: 'none',
  sideEffects: false,
  retry: { maxAttempts: 1 },
  async run() {
    return done(undefined, { at: new Date().toISOString() });
  },
});
