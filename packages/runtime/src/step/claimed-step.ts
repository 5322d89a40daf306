import type { Disposition } from '@jetcel/bus';
import type { TaskLane } from '@jetcel/contracts';
import type { Logger, TaskDefinition } from '@jetcel/core';
import type { Db } from '@jetcel/db';
import { addStepMessage } from '../execution/step-messages.ts';
import type { Admitted } from '../throttle/span.ts';
import type { Claimed } from './prepare.ts';

/** A claimed step ready to run, however it came: a delivery, the commit before it, or a throttle slot handed to it. */
export interface ClaimedStep<S> {
  claimed: Claimed;
  token: string;
  task: TaskDefinition<unknown, S>;
  log: Logger;
  /** Already admitted to its throttled span (a slot handed to it); null: admission decides. */
  admitted: Admitted | null;
  /** Steps this slot has run in a row, this one included. */
  chain: number;
  /** The lane of the slot it runs in (its delivery's; a handed slot: short). */
  lane: TaskLane;
}

/** How a step ended for its slot: the delivery's settlement, and the next step claimed here, if any. */
export interface Ran<S> {
  disposition: Disposition;
  next: ClaimedStep<S> | null;
}

/**
 * Hands a step back at shutdown: queued again at once, not an attempt. A step with no delivery of
 * its own (run locally or handed a slot) gets its message published.
 */
export async function handBack(
  db: Db,
  claimed: Claimed,
  token: string,
  delivered: boolean,
  lane: TaskLane,
): Promise<void> {
  const { step, execution } = claimed;
  await db.transaction(async (tx) => {
    await tx.steps.handBack(step.id, token);
    if (delivered) return;
    addStepMessage(tx, step, execution.actor, undefined, lane);
  });
}
