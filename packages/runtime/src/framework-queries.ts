import { z } from 'zod';
import { commandSubject, querySubject, type ExecutionView, type StepView } from '@jetcel/contracts';
import { NotFoundError } from '@jetcel/core';
import { EXECUTION_STATUSES, type ExecutionRecord, type StepRecord } from '@jetcel/db';
import { defineCommand, defineQuery, type CommandDefinition } from './commands.ts';
import { requireActorOrAdmin } from './identity.ts';
import type { RetentionPolicy } from '@jetcel/db';
import { DEFAULT_RETENTION } from './retention-config.ts';
import { retentionStatsQuery } from './retention-query.ts';

const iso = (date: Date | null): string | null => (date ? date.toISOString() : null);

export function stepView(step: StepRecord): StepView {
  return {
    id: step.id,
    role: step.role,
    position: step.position,
    task: step.task,
    queue: step.queue,
    status: step.status,
    attempts: step.attempts,
    polls: step.polls,
    worker: step.worker,
    queuedAt: iso(step.queuedAt),
    startedAt: iso(step.startedAt),
    finishedAt: iso(step.finishedAt),
    durationMs: step.startedAt && step.finishedAt ? step.finishedAt.getTime() - step.startedAt.getTime() : null,
    errorMessage: step.errorMessage,
    result: step.result,
  };
}

export function executionView(execution: ExecutionRecord, steps?: StepRecord[]): ExecutionView {
  return {
    id: execution.id,
    executor: execution.executor,
    resource: { type: execution.resourceType, id: execution.resourceId },
    status: execution.status,
    actor: execution.actor,
    errorMessage: execution.errorMessage,
    errorTraceback: execution.errorTraceback,
    createdAt: iso(execution.createdAt),
    finishedAt: iso(execution.finishedAt),
    ...(steps ? { steps: steps.map(stepView) } : {}),
  };
}

/**
 * query.execution.get|list (also by resource, after it was deleted), cmd.execution.cancel and
 * query.retention.stats (row counts and the configured `retention`).
 */
export function frameworkQueries(retention: RetentionPolicy = DEFAULT_RETENTION): Array<CommandDefinition<never>> {
  const queries = [
    defineCommand({
      subject: commandSubject('execution', 'cancel'),
      input: z.strictObject({ id: z.uuid() }),
      async handle(ctx, input) {
        const execution = await ctx.tx.executions.get(input.id);
        if (!execution) throw new NotFoundError('Execution', input.id);
        requireActorOrAdmin(ctx.identity, execution.actor, 'cancel', { type: 'execution', id: input.id });
        return executionView(await ctx.cancelExecution(input.id));
      },
    }),
    defineQuery({
      subject: querySubject('execution', 'get'),
      input: z.strictObject({ id: z.uuid() }),
      async handle(ctx, input) {
        const execution = await ctx.tx.executions.get(input.id);
        if (!execution) throw new NotFoundError('Execution', input.id);
        return executionView(execution, await ctx.tx.executions.steps(input.id));
      },
    }),
    defineQuery({
      subject: querySubject('execution', 'list'),
      input: z.strictObject({
        resourceType: z.string().min(1).max(63).optional(),
        resourceId: z.string().min(1).max(255).optional(),
        status: z.enum(EXECUTION_STATUSES).optional(),
        limit: z.number().int().min(1).max(500).optional(),
      }),
      async handle(ctx, input) {
        const executions = await ctx.tx.executions.list(input);
        return { items: executions.map((execution) => executionView(execution)) };
      },
    }),
    retentionStatsQuery(retention),
  ];
  return queries as Array<CommandDefinition<never>>;
}
