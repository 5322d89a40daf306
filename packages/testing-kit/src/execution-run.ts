import { readStreamMessages, type Bus } from '@jetcel/bus';
import { EVENTS_STREAM, resourceEventSchema, type ResourceEvent } from '@jetcel/contracts';
import type { ResourceSnapshot } from '@jetcel/core';
import type { Db, ExecutionRecord, StepRecord } from '@jetcel/db';
import { eventually, queryRows } from '@jetcel/testing';

/** What one execution did, read once it has ended. */
export interface ExecutionRun {
  execution: ExecutionRecord;
  /** Its steps in the order they were queued (main chain, then a handler). */
  steps: StepRecord[];
  /** Its resource afterwards; null once deleted. */
  resource: ResourceSnapshot | null;
  /** Every event of its resource so far, oldest first. */
  events: ResourceEvent[];
}

const FINAL = new Set(['succeeded', 'failed', 'cancelled']);

/** Waits for the execution's final status, then for the outbox to have published what is due (the events). */
export async function waitForExecutionEnd(db: Db, url: string, executionId: string, timeoutMs: number): Promise<void> {
  try {
    await eventually(
      async () => FINAL.has((await db.read((tx) => tx.executions.get(executionId)))?.status ?? 'missing'),
      { timeoutMs, message: `execution ${executionId} never ended` },
    );
  } catch (error) {
    const steps = await db.read((tx) => tx.executions.steps(executionId));
    const shape = steps.map((step) => `${step.role} ${step.task} ${step.status} ${step.errorMessage}`.trim());
    throw new Error(`${(error as Error).message}; its steps: ${JSON.stringify(shape)}`, { cause: error });
  }
  await eventually(
    async () =>
      (await queryRows(url, 'select 1 from jetcel_outbox where published_at is null and not_before <= now()'))
        .length === 0,
    { timeoutMs, message: 'the outbox never published what was due' },
  );
}

export async function readExecutionRun(db: Db, bus: Bus, executionId: string): Promise<ExecutionRun> {
  const { execution, steps } = await db.read(async (tx) => ({
    execution: await tx.executions.get(executionId),
    steps: await tx.executions.steps(executionId),
  }));
  if (!execution) throw new Error(`no execution ${executionId}`);
  const resource = await db.read((tx) => tx.resources.get(execution.resourceType, execution.resourceId));
  return {
    execution,
    steps: steps.sort((a, b) => a.queuedAt.getTime() - b.queuedAt.getTime() || a.position - b.position),
    resource,
    events: await resourceEvents(bus, execution.resourceType, execution.resourceId),
  };
}

export async function resourceEvents(bus: Bus, type: string, id: string): Promise<ResourceEvent[]> {
  const messages = await readStreamMessages(bus, EVENTS_STREAM, { subject: `events.${type}.${id}.>` });
  return messages.map((message) => resourceEventSchema.parse(JSON.parse(new TextDecoder().decode(message.data))));
}
