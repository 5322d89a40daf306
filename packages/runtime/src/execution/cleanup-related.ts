import {
  BUSY_STATES,
  cleanupRelatedArgs,
  NotFoundError,
  TaskError,
  type ExecutorRegistry,
  type JsonObject,
  type Logger,
  type ResourceSnapshot,
} from '@jetcel/core';
import type { ExecutionRecord, StepRecord, Tx } from '@jetcel/db';
import type { Progress } from './progress.ts';
import { scheduleExecution } from './schedule.ts';
import { startRuntimeStep } from './runtime-step-start.ts';
import { requeueStep } from './step-messages.ts';

/** A related resource's delete ended and the resource is still there (a delete without force failed). */
export class RelatedDeleteFailedError extends TaskError {
  constructor(ref: string, executor: string, reason: string) {
    super(`Could not delete ${ref} (${executor}): ${reason}`);
  }
}

/** The related resources of one type were not all gone within the cleanup's timeout. */
export class CleanupTimeoutError extends TaskError {
  constructor(resourceType: string, timeoutMs: number, left: readonly string[]) {
    super(
      `Cleanup timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${left.length} related ${resourceType} resource(s): ${left.slice(0, 10).join(', ')}`,
    );
  }
}

const ENDED = new Set(['succeeded', 'failed', 'cancelled']);
// A cleanup starts at most this many deletes per look; the next look starts the rest.
const BATCH = 500;

/**
 * A cleanup step, run by the runtime each time it is due: the related rows are found now, each
 * that is not busy gets its delete executor (nested in this step, so a cancel reaches it), busy
 * ones are waited for; the step looks again after its interval and succeeds once none is left.
 * A delete that ended with its resource still there, or the timeout, fails the step.
 */
export async function runCleanupStep(
  tx: Tx,
  progress: Progress,
  executors: Pick<ExecutorRegistry, 'get'>,
  step: StepRecord,
  token: string,
  log: Logger,
): Promise<void> {
  const begun = await startRuntimeStep(tx, progress, step, token, log, 'cleanup failed');
  if (!begun) return;
  const { execution, fail } = begun;
  const parsed = cleanupRelatedArgs.safeParse(step.args);
  if (!parsed.success) return fail(parsed.error);
  const args = parsed.data;
  const executor = executors.get(args.executor);
  if (!executor) return fail(new NotFoundError('Executor', args.executor));
  const rows = await tx.resources.find(args.resourceType, args.where, { limit: BATCH });
  if (rows.length === 0) {
    await tx.steps.complete(step.id, token, { status: 'succeeded', result: { resourceType: args.resourceType } });
    return progress.stepSucceeded(tx, execution, step);
  }
  const latest = new Map<string, ExecutionRecord>();
  for (const child of await tx.executions.childrenOfStep(step.id)) latest.set(child.resourceId, child);
  const waiting: string[] = [];
  let started = 0;
  for (const row of rows) {
    const ref = `${row.type}:${row.id}`;
    const child = latest.get(row.id);
    if (child && ENDED.has(child.status) && !isBusy(row)) {
      const reason = child.errorMessage || row.errorMessage || `its delete ${child.status}`;
      return fail(new RelatedDeleteFailedError(ref, executor.name, reason));
    }
    const locked = isBusy(row) ? row : await tx.resources.get(row.type, row.id, { forUpdate: true });
    if (!locked) continue;
    if (isBusy(locked)) {
      waiting.push(`${ref} (${locked.state})`);
      continue;
    }
    try {
      await scheduleExecution(tx, progress, executor, {
        resource: locked,
        params: args.params as JsonObject as never,
        actor: execution.actor,
        parentStepId: step.id,
      });
    } catch (error) {
      return fail(error);
    }
    started += 1;
  }
  const since = (step.startedAt ?? step.queuedAt).getTime();
  if (Date.now() - since > args.timeoutMs) {
    const left = waiting.length > 0 ? waiting : rows.map((row) => `${row.type}:${row.id} (${row.state})`);
    return fail(new CleanupTimeoutError(args.resourceType, args.timeoutMs, left));
  }
  await requeueStep(tx, step.id, token, execution.actor, { delayMs: args.intervalMs, poll: true });
  log.info('cleanup waits for related resources', {
    resourceType: args.resourceType,
    left: rows.length,
    started,
    busy: waiting.length,
  });
}

function isBusy(resource: ResourceSnapshot): boolean {
  return BUSY_STATES.includes(resource.state);
}
