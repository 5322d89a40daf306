import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Delivery } from '@jetcel/bus';
import { silentLogger, type Plan, type TaskRegistry } from '@jetcel/core';
import type { Db, ExecutionRecord } from '@jetcel/db';
import { queryRows } from '@jetcel/testing';
import type { Progress } from '../src/execution/progress.ts';
import { StepRunner } from '../src/step/runner.ts';
import type { TestDb } from './db-fixture.ts';

/** A delivery carrying the bytes of an outbox row, as the broker would hand it to a worker. */
export function deliveryOf(payload: string, subject = 'tasks.regular', headers: Record<string, string> = {}): Delivery {
  return {
    subject,
    data: Buffer.from(payload),
    headers,
    deliveryCount: 1,
    streamSeq: 1,
    redelivered: false,
    publishedAt: new Date(),
    working() {},
  };
}

/** A chain of `steps` steps of `task` (then `last`, if named), with `task` as both handlers unless `onSuccess` is named. */
export function chainPlan(steps: number, task: string, last?: string, onSuccess = task): Plan {
  return {
    v: 2,
    executor: 'test.chain',
    steps: [...Array.from({ length: steps }, () => ({ task })), ...(last ? [{ task: last }] : [])],
    onSuccess: [{ task: onSuccess }],
    onFailure: [{ task }],
  };
}

/** Schedules an execution of `plan` on a new widget and returns it with the delivery of its first step. */
export async function scheduleWidgetPlan(
  env: Pick<TestDb, 'db' | 'database'>,
  progress: Progress,
  plan: Plan,
): Promise<{ executionId: string; widgetId: string; delivery: Delivery }> {
  const executionId = randomUUID();
  const widgetId = await env.db.transaction(async (tx) => {
    const instance = await tx.resources.insert('widget', { name: 'chain' }, { executionId: null, actor: null });
    await tx.executions.create({
      id: executionId,
      executor: plan.executor,
      resourceType: 'widget',
      resourceId: instance.id,
      plan,
      params: {},
      actor: null,
    });
    const execution = (await tx.executions.get(executionId)) as ExecutionRecord;
    const first = execution.plan.steps[0];
    assert.ok(first);
    await progress.queueNode(tx, execution, 0, first);
    return instance.id;
  });
  const [row] = await queryRows<{ payload: string; subject: string; headers: Record<string, string> }>(
    env.database.url,
    "select payload, subject, headers from jetcel_outbox where subject like 'tasks.regular%' and payload like $1",
    [`%${executionId}%`],
  );
  assert.ok(row, 'the first step has its message');
  // The headers as the relay publishes them (the actor, the trace parent, the step's resource).
  return { executionId, widgetId, delivery: deliveryOf(row.payload, row.subject, row.headers) };
}

/** A step runner of the regular queue, worker `local`, without services (its fast path on). */
export function regularRunner(db: Db, registry: TaskRegistry): StepRunner<unknown> {
  return new StepRunner({ db, registry, services: {}, logger: silentLogger, worker: 'local', queue: 'regular' });
}
