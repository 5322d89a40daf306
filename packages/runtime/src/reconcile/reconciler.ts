import type { Logger } from '@jetcel/core';
import type { Db } from '@jetcel/db';
import { addBackgroundMessage } from '../background/messages.ts';
import { addRequeuedStepMessages } from '../execution/step-messages.ts';

export interface ReconcilerOptions {
  logger: Logger;
  /** Steps and runs whose claim expired this long ago are re-queued (their holder died). @defaultValue 5000 */
  claimGraceMs?: number;
  /** A due step still queued this long after its time is re-published (its message was lost). @defaultValue 60000 */
  staleQueuedMs?: number;
  /** A due background run still queued after this long lost its message. @defaultValue 900000 */
  backgroundStaleMs?: number;
  /** Rows re-queued per statement. @defaultValue 100 */
  limit?: number;
}

/**
 * Puts work whose holder died (expired claim, nobody took over) or whose message was lost back in
 * the queue. Each re-queue and the outbox rows that re-publish it commit in one transaction: a
 * crash between them can't leave a queued step without a message.
 */
export class Reconciler {
  constructor(
    private readonly db: Db,
    private readonly options: ReconcilerOptions,
  ) {}

  /** One pass over steps and background runs; each part logs its own failure. */
  async run(): Promise<void> {
    await Promise.all([
      this.steps().catch((error: unknown) =>
        this.options.logger.warn('execution reconciler failed', { error: String(error) }),
      ),
      this.backgroundRuns().catch((error: unknown) =>
        this.options.logger.warn('background run reconciler failed', { error: String(error) }),
      ),
    ]);
  }

  /** Re-queues steps whose claim expired, then re-publishes steps queued too long. */
  async steps(): Promise<void> {
    const limit = this.options.limit ?? 100;
    const expired = await this.db.transaction(async (tx) => {
      const steps = await tx.steps.requeueExpiredClaims(this.options.claimGraceMs ?? 5000, limit);
      await addRequeuedStepMessages(tx, steps);
      return steps;
    });
    if (expired.length > 0)
      this.options.logger.warn('re-queued steps whose claim expired', { steps: expired.map((step) => step.id) });
    // A message lost with the stream (a purge, a lost PubAck after a restart): re-publish it.
    const stale = await this.db.transaction(async (tx) => {
      const steps = await tx.steps.touchStaleQueued(this.options.staleQueuedMs ?? 60_000, limit);
      await addRequeuedStepMessages(tx, steps);
      return steps;
    });
    if (stale.length > 0)
      this.options.logger.warn('re-publishing steps queued too long', { steps: stale.map((step) => step.id) });
  }

  /** Re-queues background runs whose worker died or whose message was lost. */
  async backgroundRuns(): Promise<void> {
    const runs = await this.db.transaction(async (tx) => {
      const requeued = await tx.backgroundRuns.requeueExpired({
        graceMs: this.options.claimGraceMs ?? 5000,
        staleMs: this.options.backgroundStaleMs ?? 900_000,
        limit: this.options.limit ?? 100,
      });
      for (const run of requeued) addBackgroundMessage(tx, run);
      return requeued;
    });
    if (runs.length > 0)
      this.options.logger.warn('re-queued background runs (claim expired or message lost)', {
        runs: runs.map((run) => run.id),
      });
  }
}
