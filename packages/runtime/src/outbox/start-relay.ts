import { publish, type Bus } from '@jetcel/bus';
import type { Logger } from '@jetcel/core';
import type { Db } from '@jetcel/db';
import { Reconciler } from '../reconcile/reconciler.ts';
import { OutboxRelay } from './relay.ts';

/**
 * Starts this process's outbox relay: handed every COMMIT's rows and published to the bus, swept
 * on a timer, each sweep running the reconciler first.
 */
export function startRelay(options: {
  bus: Bus;
  db: Db;
  logger: Logger;
  sweepMs: number;
  claimGraceMs: number;
  staleQueuedMs?: number;
}): OutboxRelay {
  const reconciler = new Reconciler(options.db, {
    logger: options.logger.child({ component: 'reconciler' }),
    claimGraceMs: options.claimGraceMs,
    ...(options.staleQueuedMs === undefined ? {} : { staleQueuedMs: options.staleQueuedMs }),
  });
  const relay = new OutboxRelay(options.db, {
    logger: options.logger.child({ component: 'relay' }),
    sweepMs: options.sweepMs,
    publish: async (row) => {
      await publish(options.bus, row.subject, row.payload, { msgId: row.id, headers: row.headers });
    },
    onSweep: () => reconciler.run(),
  });
  relay.start();
  return relay;
}
