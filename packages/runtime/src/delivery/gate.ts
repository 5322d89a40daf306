import type { Delivery, Disposition } from '@jetcel/bus';
import type { Logger } from '@jetcel/core';
import type { DeadLetterReason, Db } from '@jetcel/db';
import { writeDeadLetter, type InLetterCommit } from './dead-letters.ts';

export interface GateOptions {
  db: Db;
  /** How long to hand back a message naming a task this worker does not know. @defaultValue 30000 */
  unknownTaskDelayMs?: number;
  /** How long an unknown task or message version may wait for a newer worker. @defaultValue 10 min */
  unknownTaskGraceMs?: number;
}

/** What a delivery that cannot run here becomes: a dead letter, or a hand-back while a newer worker may come. */
export class DeliveryGate {
  constructor(private readonly options: GateOptions) {}

  /** Commits a dead letter for the delivery (its step, if named, is marked dead); the caller terms it. */
  async letter(
    delivery: Delivery,
    log: Logger,
    reason: DeadLetterReason,
    detail: string,
    ids: { executionId?: string; stepId?: string } = {},
    inCommit?: InLetterCommit,
  ): Promise<Disposition> {
    await writeDeadLetter(
      this.options.db,
      log,
      {
        reason,
        detail,
        subject: delivery.subject,
        data: delivery.data,
        headers: delivery.headers,
        deliveryCount: delivery.deliveryCount,
        ...ids,
      },
      inCommit,
    );
    return { kind: 'term' };
  }

  /**
   * Rolling upgrades: a task name or message version this worker does not know is handed back
   * until a grace period (from its first publication) runs out, then dead-lettered (with
   * `inCommit` in the dead letter's transaction).
   */
  async unknownTask(
    delivery: Delivery,
    log: Logger,
    what: string,
    ids: { executionId?: string; stepId?: string } = {},
    inCommit?: InLetterCommit,
  ): Promise<Disposition> {
    const graceMs = this.options.unknownTaskGraceMs ?? 10 * 60_000;
    const waitedMs = Date.now() - delivery.publishedAt.getTime();
    if (waitedMs < graceMs) {
      const delayMs = Math.max(1000, Math.min(this.options.unknownTaskDelayMs ?? 30_000, graceMs - waitedMs));
      log.warn(`${what} is unknown to this worker; handing the message back`, { delayMs });
      return { kind: 'nak', delayMs };
    }
    const detail = `${what} is unknown after a grace period of ${graceMs} ms`;
    return this.letter(delivery, log, 'UNKNOWN_TASK', detail, ids, inCommit);
  }
}
