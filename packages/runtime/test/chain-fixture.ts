import { randomUUID } from 'node:crypto';
import assert from 'node:assert/strict';
import type { Plan } from '@jetcel/core';
import type { Db, ExecutionRecord } from '@jetcel/db';
import type { Progress } from '../src/execution/progress.ts';

/** A chain of `steps` steps of `task` (then `last`, if named), with `task` as both handlers. */
export function chainPlan(steps: number, task: string, last?: string): Plan {
  return {
    v: 1,
    executor: 'test.chain',
    steps: [...Array.from({ length: steps }, () => ({ task })), ...(last ? [{ task: last }] : [])],
    onSuccess: { task },
    onFailure: { task },
  };
}

/** Creates a widget and an execution of `plan` on it, and queues its first step (its outbox row); returns the execution id. */
export async function scheduleChain(db: Db, progress: Progress, plan: Plan): Promise<string> {
  const executionId = randomUUID();
  await db.transaction(async (tx) => {
    const widget = await tx.resources.insert('widget', { name: 'chain' }, { executionId: null, actor: null });
    await tx.executions.create({
      id: executionId,
      executor: plan.executor,
      resourceType: 'widget',
      resourceId: widget.id,
      plan,
      params: {},
      actor: null,
    });
    const execution = (await tx.executions.get(executionId)) as ExecutionRecord;
    const first = execution.plan.steps[0];
    assert.ok(first);
    await progress.queueNode(tx, execution, 0, first);
  });
  return executionId;
}
