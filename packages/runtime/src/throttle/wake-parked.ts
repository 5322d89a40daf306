import type { Db } from '@jetcel/db';
import type { Logger } from '@jetcel/core';
import { addStepMessage } from '../execution/step-messages.ts';

/** A scope whose newcomers a commit parked on its waiting list, and the limit their executor declares. */
export interface ParkedScope {
  kind: string;
  scope: string;
  declared: number | null;
}

/**
 * Under the scope's lock (a span end either committed before or sees the waiters), the first
 * waiters the scope has room for are made due now, with their messages. Run after a commit that
 * parked throttled newcomers (see `Progress.createManyQueued`: their schedule read the scope's room
 * without the lock, so a span that ended meanwhile may have freed its slot without seeing them, or
 * a newcomer due now may have parked behind one of them), and by the lease reconciler for the
 * slots it frees. Lost in a crash, only their fallback timers remain.
 */
export async function wakeParked(db: Db, { kind, scope, declared }: ParkedScope, logger: Logger): Promise<void> {
  await db
    .leanTransaction(
      async (tx) => {
        await tx.throttle.lockScope(kind, scope);
        const woken = await tx.throttle.wakeParked(kind, scope, declared);
        for (const { step, actor } of woken) addStepMessage(tx, step, actor);
        return woken.length;
      },
      { relaxedDurability: true },
    )
    .then((woken) => {
      // A slot was free with waiters parked on their timers: worth seeing when it happens.
      if (woken > 0) logger.info('parked throttle waiters woken', { kind, scope, woken });
    })
    .catch((error: unknown) => {
      logger.warn('waking parked throttle waiters failed; their fallback timers remain', {
        kind,
        scope,
        error: String(error),
      });
    });
}
