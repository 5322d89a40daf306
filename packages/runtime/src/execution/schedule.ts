import { randomUUID } from 'node:crypto';
import {
  buildPlan,
  isGroup,
  preApply,
  type ExecutorDefinition,
  type JsonObject,
  type PlanNode,
  type PreApplyContext,
  type ResourceSnapshot,
  type StepCall,
} from '@jetcel/core';
import type { NewExecution, Tx } from '@jetcel/db';
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
  const { execution, first } = plannedExecution(executor, executionId, before, resource, input);
  await progress.createQueued(tx, execution, first);
  return { kind: 'scheduled', executionId, resource };
}

/** One execution of a bulk (`scheduleExecutions`): `scheduleExecution`'s input without a parent step. */
export interface BulkScheduleInput<P extends JsonObject> {
  resource: ResourceSnapshot;
  params: P;
  actor: string | null;
  heavy?: boolean;
}

/**
 * `scheduleExecution` for many resources, with the executions and their first steps in one insert
 * statement. An input whose schedule needs more (a resource patch, the executor's own `preApply`
 * hook, a group first) is scheduled on its own, as `scheduleExecution` does. Results in input order.
 * `heavy` applies to every input that does not say otherwise.
 */
export async function scheduleExecutions<P extends JsonObject>(
  tx: Tx,
  progress: Progress,
  executor: ExecutorDefinition<P>,
  inputs: BulkScheduleInput<P>[],
  options: { heavy?: boolean } = {},
): Promise<ScheduleResult[]> {
  const results: ScheduleResult[] = [];
  const bulk: { execution: NewExecution; call: StepCall }[] = [];
  for (const given of inputs) {
    const input = { ...given, heavy: given.heavy ?? options.heavy === true };
    const decision = preApply(executor, { resource: input.resource, params: input.params });
    if (decision.kind === 'noop') {
      results.push({ kind: 'noop', resource: input.resource });
      continue;
    }
    if (decision.patch || executor.preApply) {
      results.push(await scheduleExecution(tx, progress, executor, input));
      continue;
    }
    const executionId = randomUUID();
    const { execution, first } = plannedExecution(executor, executionId, input.resource, input.resource, input);
    if (isGroup(first)) {
      results.push(await scheduleExecution(tx, progress, executor, input));
      continue;
    }
    bulk.push({ execution, call: first });
    results.push({ kind: 'scheduled', executionId, resource: input.resource });
  }
  await progress.createManyQueued(tx, bulk);
  return results;
}

/** The execution row of a schedule, with its plan's first node. */
function plannedExecution<P extends JsonObject>(
  executor: ExecutorDefinition<P>,
  executionId: string,
  before: ResourceSnapshot,
  resource: ResourceSnapshot,
  input: { params: P; actor: string | null; parentStepId?: string; heavy?: boolean },
): { execution: NewExecution; first: PlanNode } {
  const plan = buildPlan(executor, { resource, params: input.params }, { heavy: input.heavy === true });
  const first = plan.steps[0];
  if (!first) throw new Error(`Executor ${executor.name} planned no steps`);
  const execution = {
    id: executionId,
    executor: executor.name,
    resourceType: resource.type,
    resourceId: resource.id,
    plan,
    params: input.params,
    actor: input.actor,
    parentStepId: input.parentStepId ?? null,
    resourceBefore: { state: before.state, errorMessage: before.errorMessage, errorTraceback: before.errorTraceback },
  };
  return { execution, first };
}
