import { parseResourceRef } from '@jetcel/contracts';
import {
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
import { startRuntimeStep } from './runtime-step-start.ts';

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
  const begun = await startRuntimeStep(tx, progress, step, token, log, 'nested executor could not start');
  if (!begun) return;
  const { execution, fail } = begun;
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
