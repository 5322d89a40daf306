import { publish, type Bus } from '@jetcel/bus';
import type { Logger } from '@jetcel/core';
import { OutboxRelay, type Db } from '@jetcel/db';
import { addRequeuedStepMessages } from './step-messages.ts';
import { addRequeuedBackgroundMessages } from './background-messages.ts';

/** Starts this process's outbox relay: handed every COMMIT's rows, swept on a timer. */
export function startRelay(options: {
  bus: Bus;
  db: Db;
  logger: Logger;
  sweepMs: number;
  claimGraceMs: number;
  staleQueuedMs?: number;
}): OutboxRelay {
  const relay = new OutboxRelay(options.db, {
    logger: options.logger.child({ component: 'relay' }),
    sweepMs: options.sweepMs,
    claimGraceMs: options.claimGraceMs,
    ...(options.staleQueuedMs === undefined ? {} : { staleQueuedMs: options.staleQueuedMs }),
    publish: async (row) => {
      await publish(options.bus, row.subject, row.payload, { msgId: row.id, headers: row.headers });
    },
    onRequeuedSteps: (stepIds) => options.db.transaction((tx) => addRequeuedStepMessages(tx, stepIds)),
    onRequeuedBackgroundRuns: addRequeuedBackgroundMessages,
  });
  relay.start();
  return relay;
}
