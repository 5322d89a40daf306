import { faultThrow, type DeadLetterReason, type Db, type Tx } from '@jetcel/db';
import type { Logger } from '@jetcel/core';

export interface DeadLetterInput {
  reason: DeadLetterReason;
  detail: string;
  subject: string;
  data: Uint8Array;
  headers: Record<string, string>;
  deliveryCount: number;
  executionId?: string | null;
  stepId?: string | null;
}

/** More work in the dead letter's own transaction (an unknown task's step failing its execution). */
export type InLetterCommit = (tx: Tx) => Promise<void>;

/** Where a test injects a failure between the dead letter and the work in its commit (`JETCEL_FAULT_THROW`). */
export const DEAD_LETTER_FAULT = 'dead-letter-before-its-commit-work';

/**
 * Commits the dead-letter row (and marks its step dead so nothing re-publishes it) BEFORE the
 * caller terms the message: once the row exists, the message may leave the stream. `inCommit`
 * runs in the same transaction: both commit, or neither does.
 */
export async function writeDeadLetter(
  db: Db,
  logger: Logger,
  input: DeadLetterInput,
  inCommit?: InLetterCommit,
): Promise<string> {
  const id = await db.transaction(async (tx) => {
    const letterId = await tx.deadLetters.add({
      reason: input.reason,
      detail: input.detail,
      subject: input.subject,
      payload: input.data,
      headers: input.headers,
      executionId: input.executionId ?? null,
      stepId: input.stepId ?? null,
      deliveryCount: input.deliveryCount,
    });
    if (input.stepId) await tx.steps.markDead(input.stepId);
    faultThrow(DEAD_LETTER_FAULT);
    await inCommit?.(tx);
    return letterId;
  });
  logger.error('message dead-lettered', {
    deadLetterId: id,
    reason: input.reason,
    detail: input.detail,
    stepId: input.stepId ?? null,
  });
  return id;
}
