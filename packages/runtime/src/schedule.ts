import { randomUUID } from 'node:crypto';
import { buildPlan, preApply, type ExecutorDefinition, type JsonObject, type ResourceSnapshot } from '@jetcel/core';
import type { Tx } from '@jetcel/db';
import { queueStep, type TaskCatalog } from './queue-step.ts';

export type ScheduleResult =
  { kind: 'scheduled'; executionId: string; resource: ResourceSnapshot } | { kind: 'noop'; resource: ResourceSnapshot };

/**
 * Runs an executor's preApply in the caller's transaction, stores the execution with its plan and
 * queues the first step. Nothing is published until the transaction commits (SPEC B6, F1).
 */
export async function scheduleExecution<P extends JsonObject>(
  tx: Tx,
  catalog: TaskCatalog,
  executor: ExecutorDefinition<P>,
  input: { resource: ResourceSnapshot; params: P; actor: string | null },
): Promise<ScheduleResult> {
  const decision = preApply(executor, { resource: input.resource, params: input.params });
  if (decision.kind === 'noop') return { kind: 'noop', resource: input.resource };
  const executionId = randomUUID();
  const context = { executionId, actor: input.actor };
  const resource = decision.patch
    ? await tx.resources.applyPatch(input.resource, decision.patch, context)
    : input.resource;
  if (!resource) throw new Error('preApply deleted its resource');
  const plan = buildPlan(executor, { resource, params: input.params });
  const execution = { id: executionId, resourceType: resource.type, resourceId: resource.id, actor: input.actor };
  await tx.executions.create({ ...execution, executor: executor.name, plan, params: input.params });
  const first = plan.steps[0];
  if (!first) throw new Error(`Executor ${executor.name} planned no steps`);
  await queueStep(tx, catalog, execution, { role: 'main', position: 0, call: first });
  return { kind: 'scheduled', executionId, resource };
}
