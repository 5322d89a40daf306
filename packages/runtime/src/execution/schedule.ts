import { randomUUID } from 'node:crypto';
import {
  buildPlan,
  preApply,
  type ExecutorDefinition,
  type JsonObject,
  type PreApplyContext,
  type ResourceSnapshot,
} from '@jetcel/core';
import type { Tx } from '@jetcel/db';
import { enqueueBackground } from '../background/enqueue.ts';
import { domainAccess } from './domain-access.ts';
import type {} from './pre-apply-context.ts';
import type { Progress } from './progress.ts';

export type ScheduleResult =
  { kind: 'scheduled'; executionId: string; resource: ResourceSnapshot } | { kind: 'noop'; resource: ResourceSnapshot };

/**
 * Runs an executor's preApply in the caller's transaction (the built-in state checks and
 * transition, then the executor's own `preApply` hook), stores the execution with its plan and
 * queues the first node. Nothing is published until the transaction commits.
 */
export async function scheduleExecution<P extends JsonObject>(
  tx: Tx,
  progress: Progress,
  executor: ExecutorDefinition<P>,
  input: { resource: ResourceSnapshot; params: P; actor: string | null; parentStepId?: string; heavy?: boolean },
): Promise<ScheduleResult> {
  const decision = preApply(executor, { resource: input.resource, params: input.params });
  if (decision.kind === 'noop') return { kind: 'noop', resource: input.resource };
  const executionId = randomUUID();
  const before = input.resource;
  const resource = decision.patch
    ? await tx.resources.applyPatch(before, decision.patch, { executionId, actor: input.actor })
    : before;
  if (!resource) throw new Error('preApply deleted its resource');
  if (executor.preApply) {
    const context: PreApplyContext<P> = {
      ...domainAccess(tx),
      executor: executor.name,
      executionId,
      resource,
      params: input.params,
      actor: input.actor,
      schedule: (other, target, params) =>
        scheduleExecution(tx, progress, other, { resource: target, params, actor: input.actor }),
      enqueue: (request) => enqueueBackground(tx, progress.catalog, request),
    };
    await executor.preApply(context);
  }
  const plan = buildPlan(executor, { resource, params: input.params }, { heavy: input.heavy === true });
  const execution = {
    id: executionId,
    executor: executor.name,
    resourceType: resource.type,
    resourceId: resource.id,
    status: 'running' as const,
    plan,
    params: input.params,
    actor: input.actor,
    parentStepId: input.parentStepId ?? null,
    resourceBefore: { state: before.state, errorMessage: before.errorMessage, errorTraceback: before.errorTraceback },
  };
  const first = plan.steps[0];
  if (!first) throw new Error(`Executor ${executor.name} planned no steps`);
  await progress.createQueued(tx, execution, first);
  return { kind: 'scheduled', executionId, resource };
}
