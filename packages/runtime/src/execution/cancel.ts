import { InvalidStateError, NotFoundError } from '@jetcel/core';
import type { ExecutionRecord, Tx } from '@jetcel/db';
import type { Progress } from './progress.ts';

/**
 * Cancel is persistent: the execution moves to cancel_requested in this transaction,
 * queued steps are cancelled, nested executions too, and the failure handler runs with reason
 * CANCELLED once no step is in flight. A finished (or finishing) execution cannot be cancelled.
 */
export async function cancelExecution(tx: Tx, progress: Progress, id: string): Promise<ExecutionRecord> {
  const execution = await tx.executions.lock(id);
  if (!execution) throw new NotFoundError('Execution', id);
  if (execution.status === 'cancel_requested') return execution;
  if (execution.status !== 'running') {
    throw new InvalidStateError(`Execution ${id} has already finished (${execution.status})`, {
      status: execution.status,
    });
  }
  if (await tx.steps.hasRole(id, 'success')) {
    throw new InvalidStateError(`Execution ${id} is finishing: its plan has already succeeded`, {
      status: execution.status,
    });
  }
  await progress.cancel(tx, execution);
  const updated = await tx.executions.get(id);
  if (!updated) throw new NotFoundError('Execution', id);
  return updated;
}
