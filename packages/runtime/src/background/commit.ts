import { parseResourceRef } from '@jetcel/contracts';
import {
  InvalidStateError,
  isEmptyPatch,
  NotFoundError,
  TaskError,
  type Logger,
  type ResourcePatch,
  type ResourceSnapshot,
  type TaskOutcome,
} from '@jetcel/core';
import { ConcurrentUpdateError, type Tx } from '@jetcel/db';
import { match } from 'ts-pattern';
import { cancelExecution } from '../execution/cancel.ts';
import { enqueueBackground } from './enqueue.ts';
import { scheduleRequested } from '../execution/schedule-requests.ts';
import type { Progress } from '../execution/progress.ts';
import type { TaskCatalog } from '../execution/queue-step.ts';

export interface BackgroundCommitDeps {
  catalog: TaskCatalog;
  progress: Progress;
}

export interface BackgroundCommitSummary {
  patched: number;
  enqueued: number;
  skipped: number;
  cancelled: number;
  /** Executions the outcome scheduled, and the refused requests it skipped. */
  scheduled: number;
  refused: number;
}

/**
 * Writes what a background task returned, in the caller's transaction: the executions it asked to
 * cancel (first, so locks are taken in the step runner's order: execution, then resource), its
 * resource patch and related patches (compare-and-set on the versions the task read; events are
 * written), and the background tasks it asked to queue. A `pollAgain` counts as done.
 */
export async function commitBackgroundOutcome(
  tx: Tx,
  deps: BackgroundCommitDeps,
  input: { outcome: TaskOutcome; resource: ResourceSnapshot | null; actor: string | null; log: Logger },
): Promise<BackgroundCommitSummary> {
  const finished = match(input.outcome)
    .with({ kind: 'done' }, (done) => done)
    .with({ kind: 'poll' }, ({ patch }) => ({ patch, also: [], enqueue: [], cancel: [], schedule: [] }))
    .exhaustive();
  const summary: BackgroundCommitSummary = {
    patched: 0,
    enqueued: 0,
    skipped: 0,
    cancelled: 0,
    scheduled: 0,
    refused: 0,
  };
  for (const id of finished.cancel ?? []) {
    if (await cancelIfRunning(tx, deps.progress, id, input.log)) summary.cancelled += 1;
  }
  const context = { executionId: null, actor: input.actor };
  if (finished.patch && !isEmptyPatch(finished.patch)) {
    if (!input.resource) throw new TaskError('A background task without a resource returned a resource patch');
    await tx.resources.applyPatch(input.resource, finished.patch, context);
    summary.patched += 1;
  }
  for (const related of finished.also ?? []) {
    if (await applyRelated(tx, related.ref, related.version, related.patch, context)) summary.patched += 1;
  }
  for (const request of finished.enqueue ?? []) {
    const result = await enqueueBackground(tx, deps.catalog, request);
    if (result.kind === 'queued') summary.enqueued += 1;
    else summary.skipped += 1;
  }
  if (finished.schedule?.length) {
    // A refusal with onRefused 'fail' throws: the whole transaction rolls back and the run fails.
    const scheduled = await scheduleRequested(tx, deps.progress, finished.schedule, input);
    summary.scheduled += scheduled.scheduled;
    summary.refused += scheduled.skipped;
  }
  return summary;
}

/** An outcome with nothing to write (no patch, related patch, queued task, cancel or execution) needs no transaction. */
export function writesNothing(outcome: TaskOutcome): boolean {
  const empty = (patch: ResourcePatch | undefined): boolean => !patch || isEmptyPatch(patch);
  return match(outcome)
    .with(
      { kind: 'done' },
      (done) =>
        empty(done.patch) &&
        !done.also?.length &&
        !done.enqueue?.length &&
        !done.cancel?.length &&
        !done.schedule?.length,
    )
    .with({ kind: 'poll' }, (poll) => empty(poll.patch))
    .exhaustive();
}

/** A compare-and-set on the version the task read; a row deleted meanwhile is left alone. */
async function applyRelated(
  tx: Tx,
  ref: string,
  version: number,
  patch: ResourcePatch,
  context: { executionId: null; actor: string | null },
): Promise<boolean> {
  const { type, id } = parseResourceRef(ref);
  const current = await tx.resources.get(type, id, { forUpdate: true });
  if (!current) return false;
  await tx.resources.applyPatch({ ...current, version }, patch, context);
  return true;
}

/** A watchdog's cancel: an execution that has finished (or is gone) meanwhile is not an error. */
async function cancelIfRunning(tx: Tx, progress: Progress, id: string, log: Logger): Promise<boolean> {
  try {
    await cancelExecution(tx, progress, id);
    return true;
  } catch (error) {
    if (error instanceof ConcurrentUpdateError) throw error;
    if (!(error instanceof InvalidStateError) && !(error instanceof NotFoundError)) throw error;
    log.info('execution not cancelled: it has finished or is gone', { executionId: id, reason: error.message });
    return false;
  }
}
