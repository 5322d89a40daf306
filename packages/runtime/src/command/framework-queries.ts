import { z } from 'zod';
import { commandSubject, querySubject, type ExecutionView, type StepView } from '@jetcel/contracts';
import { NotFoundError } from '@jetcel/core';
import { EXECUTION_STATUSES, type ExecutionRecord, type StepRecord } from '@jetcel/db';
import { adminOnly, defineCommand, defineQuery, type CommandContext, type CommandDefinition } from './commands.ts';
import { frameworkTx } from './context.ts';
import { isAdmin, requireActorOrAdmin } from './identity.ts';
import type { RetentionPolicy } from '@jetcel/db';
import { DEFAULT_RETENTION } from '../retention/config.ts';
import { retentionStatsQuery } from '../retention/query.ts';

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

/** `withTraceback`: false for a caller who may not see tracebacks (the field is then null). */
export function executionView(execution: ExecutionRecord, steps?: StepRecord[], withTraceback = true): ExecutionView {
  return {
    id: execution.id,
    executor: execution.executor,
    resource: { type: execution.resourceType, id: execution.resourceId },
    status: execution.status,
    actor: execution.actor,
    errorMessage: execution.errorMessage,
    errorTraceback: withTraceback ? execution.errorTraceback : null,
    createdAt: iso(execution.createdAt),
    finishedAt: iso(execution.finishedAt),
    ...(steps ? { steps: steps.map(stepView) } : {}),
  };
}

/**
 * May the caller see this execution? Its actor and an admin may; so may whoever may read its
 * resource (while the resource exists). An anonymous development caller sees everything.
 */
async function canSee(ctx: CommandContext, execution: ExecutionRecord): Promise<boolean> {
  const caller = ctx.identity;
  if (!caller.verified || isAdmin(caller) || execution.actor === caller.actor) return true;
  if (!frameworkTx(ctx).resources.types().includes(execution.resourceType)) return false;
  const resource = await ctx.resources.get(execution.resourceType, execution.resourceId);
  return resource !== null && (await ctx.read.canRead(resource));
}

/** The execution, if the caller may see it; NOT_FOUND otherwise, the same reply as an unknown id. */
async function visibleExecution(ctx: CommandContext, id: string): Promise<ExecutionRecord> {
  const execution = await frameworkTx(ctx).executions.get(id);
  if (!execution || !(await canSee(ctx, execution))) throw new NotFoundError('Execution', id);
  return execution;
}

/** The list filter matching `canSee`, in SQL: the caller's executions and those on resources they read. */
function visibleTo(ctx: CommandContext) {
  const { scope } = ctx.read;
  if (scope.kind === 'all') return {};
  const owned = scope.kind === 'owned' ? frameworkTx(ctx).resources.ownedByCondition(scope.owned) : null;
  return { visibleTo: { actor: ctx.identity.actor, owned } };
}

/**
 * query.execution.get|list (also by resource, after it was deleted), cmd.execution.cancel and
 * query.retention.stats (row counts and the configured `retention`; an admin's).
 */
export function frameworkQueries(retention: RetentionPolicy = DEFAULT_RETENTION): Array<CommandDefinition<never>> {
  const queries = [
    defineCommand({
      subject: commandSubject('execution', 'cancel'),
      input: z.strictObject({ id: z.uuid() }),
      async handle(ctx, input) {
        const execution = await visibleExecution(ctx, input.id);
        requireActorOrAdmin(ctx.identity, execution.actor, 'cancel', { type: 'execution', id: input.id });
        return executionView(await ctx.cancel(input.id), undefined, ctx.read.seesTracebacks);
      },
    }),
    defineQuery({
      subject: querySubject('execution', 'get'),
      input: z.strictObject({ id: z.uuid() }),
      async handle(ctx, input) {
        const execution = await visibleExecution(ctx, input.id);
        return executionView(execution, await frameworkTx(ctx).executions.steps(input.id), ctx.read.seesTracebacks);
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
        const executions = await frameworkTx(ctx).executions.list({ ...input, ...visibleTo(ctx) });
        return { items: executions.map((execution) => executionView(execution, undefined, ctx.read.seesTracebacks)) };
      },
    }),
    adminOnly(retentionStatsQuery(retention)),
  ];
  return queries as Array<CommandDefinition<never>>;
}
