import { TASK_MESSAGE_VERSION, taskSubject, type BackgroundMessage } from '@jetcel/contracts';
import type { Json } from '@jetcel/core';
import type { BackgroundRunRecord, Tx } from '@jetcel/db';
import { traceHeaders } from '@jetcel/telemetry';

/** The subject every background task message goes to. */
export const BACKGROUND_SUBJECT = taskSubject('background');

/** The body of a background run's message: the run row holds the truth (claim, attempts). */
export function backgroundRunMessage(run: BackgroundRunRecord): BackgroundMessage {
  return {
    v: TASK_MESSAGE_VERSION,
    kind: 'background',
    task: run.task,
    runId: run.id,
    resource: run.resourceRef,
    args: run.args,
  };
}

/** The body of a standalone task's message: no run row, so no claim and no equality. */
export function standaloneMessage(task: string, args: Json, resource: string | null): BackgroundMessage {
  return { v: TASK_MESSAGE_VERSION, kind: 'background', task, runId: null, resource, args };
}

/** Writes the outbox row that publishes a background run (now, or at its not_before). */
export function addBackgroundMessage(tx: Tx, run: BackgroundRunRecord, notBefore?: Date): string {
  return tx.outbox.add({
    subject: BACKGROUND_SUBJECT,
    payload: JSON.stringify(backgroundRunMessage(run)),
    // A run enqueued inside a span (a step, a command) continues its trace.
    headers: traceHeaders(),
    ...(notBefore ? { notBefore } : {}),
  });
}
