import {
  decideOnError,
  describeFailure,
  TransientError,
  type Logger,
  type ResourceSnapshot,
  type StepOutcome,
  type TaskDefinition,
} from '@jetcel/core';
import { ConcurrentUpdateError, RunClaimLostError, type BackgroundRunRecord, type Tx } from '@jetcel/db';
import { commitBackgroundOutcome, type BackgroundCommitSummary } from './commit.ts';
import type { BackgroundEnv } from './context.ts';
import { addBackgroundMessage } from './messages.ts';
import type { RunResult } from '../run/run-task.ts';

export interface ClaimedRun {
  run: BackgroundRunRecord;
  token: string;
  resource: ResourceSnapshot | null;
  actor: string | null;
  log: Logger;
}

/**
 * One transaction for the outcome and the row's deletion. If the outcome cannot be written (a
 * resource changed meanwhile: a retry re-reads it; anything else: a failure), a second
 * transaction settles the run as failed.
 */
export async function settleBackgroundRun<S>(
  env: BackgroundEnv<S>,
  task: TaskDefinition<unknown, S>,
  claimed: ClaimedRun,
  result: RunResult,
): Promise<StepOutcome> {
  const { run, token, log } = claimed;
  if (result.kind === 'error') {
    if (result.error instanceof RunClaimLostError) throw result.error;
    return env.db.transaction((tx) => settleError(tx, task, claimed, result.error));
  }
  let summary: BackgroundCommitSummary;
  try {
    summary = await env.db.transaction(async (tx) => {
      const written = await commitBackgroundOutcome(tx, env.deps, {
        outcome: result.outcome,
        resource: claimed.resource,
        actor: claimed.actor,
        log,
      });
      await tx.backgroundRuns.finish(run.id, token);
      return written;
    });
  } catch (error) {
    if (error instanceof RunClaimLostError) throw error;
    const cause = isConflict(error)
      ? new TransientError(`A resource changed while ${task.name} ran: ${describeFailure(error).message}`, {
          cause: error,
        })
      : error;
    return env.db.transaction((tx) => settleError(tx, task, claimed, cause));
  }
  log.info('background run finished', {
    ...summary,
    ...(result.outcome.result === undefined ? {} : { result: result.outcome.result }),
  });
  return 'succeeded';
}

/** Retryable and attempts left: queued again after a backoff. Otherwise the run ends (row deleted). */
async function settleError<S>(
  tx: Tx,
  task: TaskDefinition<unknown, S>,
  claimed: ClaimedRun,
  error: unknown,
): Promise<StepOutcome> {
  const { run, token, log } = claimed;
  const decision = decideOnError(task, run.attempts, error);
  if (decision.kind === 'retry') {
    const notBefore = new Date(Date.now() + decision.delayMs);
    const failure = describeFailure(error);
    const requeued = await tx.backgroundRuns.requeue(run.id, token, { notBefore });
    addBackgroundMessage(tx, requeued, notBefore);
    log.warn('background run retries after a transient error', { delayMs: decision.delayMs, error: failure.message });
    return 'retried';
  }
  await tx.backgroundRuns.finish(run.id, token);
  log.error('background run failed', { error: decision.failure.message, errorName: decision.failure.errorName });
  return 'failed';
}

/** A compare-and-set that lost, or a lock conflict PostgreSQL resolved by aborting us. */
function isConflict(error: unknown): boolean {
  if (error instanceof ConcurrentUpdateError) return true;
  const code = (error as { code?: unknown } | null)?.code;
  return code === '40P01' || code === '40001';
}
