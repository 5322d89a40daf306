import {
  HEADERS,
  TASK_MESSAGE_VERSION,
  isQueueName,
  laneSubject,
  type QueueName,
  type TaskLane,
  type TaskMessage,
} from '@jetcel/contracts';
import type { FailureInfo } from '@jetcel/core';
import type { Tx, StepRecord } from '@jetcel/db';
import { traceHeaders } from '@jetcel/telemetry';

/**
 * Writes the outbox row that publishes a step's task message (now, or at its not_before), on its
 * queue's short lane unless told otherwise (see `stepLane`).
 */
export function addStepMessage(
  tx: Tx,
  step: Parameters<typeof stepMessage>[0],
  actor: string | null,
  notBefore?: Date,
  lane: TaskLane = 'short',
): string {
  return tx.outbox.add({ ...stepMessage(step, actor, lane), ...(notBefore ? { notBefore } : {}) });
}

/** A step's task message as an outbox row: subject (its queue's lane), payload, and the headers (trace parent, actor). */
export function stepMessage(
  step: Pick<StepRecord, 'id' | 'executionId' | 'task' | 'queue' | 'attempts' | 'args' | 'resourceRef'>,
  actor: string | null,
  lane: TaskLane = 'short',
): { subject: string; payload: string; headers: Record<string, string> } {
  const queue: QueueName = isQueueName(step.queue) ? step.queue : 'regular';
  const message: TaskMessage = {
    v: TASK_MESSAGE_VERSION,
    task: step.task,
    queue,
    executionId: step.executionId,
    stepId: step.id,
    attempt: step.attempts,
    args: step.args,
  };
  return {
    subject: laneSubject(queue, lane),
    payload: JSON.stringify(message),
    // The span that decided this step (a command, the previous step) becomes the parent of its run.
    headers: {
      ...traceHeaders(),
      ...(actor ? { [HEADERS.actor]: actor } : {}),
      ...(step.resourceRef ? { [HEADERS.resource]: step.resourceRef } : {}),
    },
  };
}

/**
 * Puts a claimed step back in the queue for a later run (a poll, a retry, a throttle wait) and
 * writes the outbox row that publishes it at that time, in the caller's transaction. Returns
 * that row's id.
 */
export async function requeueStep(
  tx: Tx,
  stepId: string,
  token: string,
  actor: string | null,
  input: { delayMs: number; attempt?: boolean; poll?: boolean; failure?: FailureInfo },
): Promise<string> {
  const notBefore = new Date(Date.now() + input.delayMs);
  const step = await tx.steps.requeue(stepId, token, {
    notBefore,
    attempt: input.attempt ?? false,
    poll: input.poll ?? false,
    ...(input.failure ? { failure: input.failure } : {}),
  });
  return addStepMessage(tx, step, actor, notBefore);
}

/** Re-publishes steps the reconciler put back in the queue, each with a fresh message id, in its transaction. */
export async function addRequeuedStepMessages(tx: Tx, steps: StepRecord[]): Promise<void> {
  const actors = new Map<string, string | null>();
  for (const step of steps) {
    if (!actors.has(step.executionId))
      actors.set(step.executionId, (await tx.executions.get(step.executionId))?.actor ?? null);
    addStepMessage(tx, step, actors.get(step.executionId) ?? null);
  }
}
