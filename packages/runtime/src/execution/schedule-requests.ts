import { parseResourceRef } from '@jetcel/contracts';
import {
  InvalidStateError,
  NotFoundError,
  ResourceGoneError,
  ScheduleRefusedError,
  ValidationError,
  type ExecutorDefinition,
  type JsonObject,
  type Logger,
  type ScheduleRequest,
} from '@jetcel/core';
import type { Tx } from '@jetcel/db';
import type { Progress } from './progress.ts';
import { scheduleExecution } from './schedule.ts';

export interface ScheduledSummary {
  scheduled: number;
  /** preApply said there is nothing to do (an action already scheduled). */
  noop: number;
  /** Refused and dropped (`onRefused: 'skip'`). */
  skipped: number;
}

/**
 * Schedules what a task's outcome asked for, in the caller's transaction (after the outcome's own
 * patches, so preApply sees the rows as the outcome left them). A refusal (preApply's state check,
 * a deleted resource, invalid params) is logged and dropped with `onRefused: 'skip'`; with `'fail'`
 * it throws ScheduleRefusedError, and the caller must not commit this transaction.
 */
export async function scheduleRequested(
  tx: Tx,
  progress: Progress,
  requests: readonly ScheduleRequest[],
  context: { actor: string | null; log: Logger },
): Promise<ScheduledSummary> {
  const summary: ScheduledSummary = { scheduled: 0, noop: 0, skipped: 0 };
  for (const request of requests) {
    const ref = parseResourceRef(request.resource);
    try {
      const resource = await tx.resources.get(ref.type, ref.id, { forUpdate: true });
      if (!resource) throw new ResourceGoneError(request.resource);
      const result = await scheduleExecution(tx, progress, request.executor as ExecutorDefinition<JsonObject>, {
        resource,
        params: request.params,
        actor: context.actor,
        heavy: request.heavy,
      });
      if (result.kind === 'noop') summary.noop += 1;
      else {
        summary.scheduled += 1;
        context.log.info('execution scheduled', {
          executor: request.executor.name,
          resource: request.resource,
          executionId: result.executionId,
          ...(request.heavy ? { heavy: true } : {}),
        });
      }
    } catch (error) {
      if (!isRefusal(error)) throw error;
      if (request.onRefused === 'fail') throw new ScheduleRefusedError(request, error);
      summary.skipped += 1;
      context.log.info('scheduled execution refused; skipped', {
        executor: request.executor.name,
        resource: request.resource,
        reason: error instanceof Error ? error.message : String(error),
      });
    }
  }
  return summary;
}

/** preApply's refusals, decided before it writes anything: the request is wrong now, not the database. */
function isRefusal(error: unknown): boolean {
  return (
    error instanceof InvalidStateError ||
    error instanceof ValidationError ||
    error instanceof NotFoundError ||
    error instanceof ResourceGoneError
  );
}
