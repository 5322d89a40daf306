import { parseResourceRef } from '@jetcel/contracts';
import {
  describeFailure,
  NotFoundError,
  ResourceGoneError,
  runExecutorArgs,
  type ExecutorRegistry,
  type JsonObject,
  type Logger,
} from '@jetcel/core';
import type { StepRecord, Tx } from '@jetcel/db';
import type { Progress } from './progress.ts';
import { scheduleExecution } from './schedule.ts';

/**
 * A nested executor's step: its preApply runs now, in this transaction; the step then
 * waits unclaimed until the child execution finishes, which moves this execution on.
 */
export async function runNestedExecutor(
  tx: Tx,
  progress: Progress,
  executors: Pick<ExecutorRegistry, 'get'>,
  step: StepRecord,
  token: string,
  log: Logger,
): Promise<void> {
  const execution = await tx.executions.lock(step.executionId);
  if (!execution) return;
  const fail = async (error: unknown): Promise<void> => {
    const failure = describeFailure(error);
    await tx.steps.complete(step.id, token, { status: 'failed', failure });
    log.warn('nested executor could not start', { error: failure.message });
    await progress.stepFailed(tx, execution, step, failure);
  };
  if (execution.status === 'cancel_requested') {
    await tx.steps.complete(step.id, token, { status: 'cancelled' });
    return progress.stepSucceeded(tx, execution, step);
  }
  const parsed = runExecutorArgs.safeParse(step.args);
  if (!parsed.success) return fail(parsed.error);
  const executor = executors.get(parsed.data.executor);
  if (!executor) return fail(new NotFoundError('Executor', parsed.data.executor));
  if (!step.resourceRef) return fail(new ResourceGoneError('(none)'));
  const ref = parseResourceRef(step.resourceRef);
  const resource = await tx.resources.get(ref.type, ref.id, { forUpdate: true });
  if (!resource) return fail(new ResourceGoneError(step.resourceRef));
  let scheduled;
  try {
    scheduled = await scheduleExecution(tx, progress, executor, {
      resource,
      params: parsed.data.params as JsonObject as never,
      actor: execution.actor,
      parentStepId: step.id,
    });
  } catch (error) {
    return fail(error);
  }
  if (scheduled.kind === 'noop') {
    await tx.steps.complete(step.id, token, { status: 'succeeded', result: { noop: true } });
    return progress.stepSucceeded(tx, execution, step);
  }
  await tx.steps.park(step.id, token, { childExecutionId: scheduled.executionId });
  log.info('nested executor started', { childExecutionId: scheduled.executionId, executor: executor.name });
}
