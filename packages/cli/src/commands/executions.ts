import type { ExecutionFilter } from '@jetcel/client';
import { EXIT, UsageError } from '../exit-codes.ts';
import { intOption, stringOption } from '../global-options.ts';
import { renderExecution } from '../render-execution.ts';
import { formatTime, renderTable } from '../table.ts';
import { emit, type CommandSpec, type RunContext } from '../spec.ts';

const STATUSES = ['running', 'cancel_requested', 'succeeded', 'failed', 'cancelled'] as const;
type Status = (typeof STATUSES)[number];
const isStatus = (value: string): value is Status => (STATUSES as readonly string[]).includes(value);

function filterOf(context: RunContext): ExecutionFilter {
  const status = stringOption(context.values, 'status');
  const resource = stringOption(context.values, 'resource');
  const limit = intOption(context.values, 'limit', 1, 500);
  if (status !== undefined && !isStatus(status))
    throw new UsageError(`--status must be one of ${STATUSES.join(', ')}, got "${status}"`);
  const parts = resource?.split(':') ?? [];
  if (resource !== undefined && (parts.length > 2 || parts.some((part) => part === '')))
    throw new UsageError(`--resource must be TYPE or TYPE:ID, got "${resource}"`);
  const [resourceType, resourceId] = parts;
  return {
    ...(status ? { status } : {}),
    ...(resourceType ? { resourceType } : {}),
    ...(resourceId ? { resourceId } : {}),
    ...(limit ? { limit } : {}),
  };
}

export const executionsListCommand: CommandSpec = {
  name: 'executions list',
  summary: 'recent executions, newest first',
  options: {
    status: { type: 'string', help: `only in this status (${STATUSES.join(', ')})` },
    resource: { type: 'string', help: 'only of this resource: TYPE or TYPE:ID' },
    limit: { type: 'string', help: 'at most N (1-500)' },
  },
  async run(context) {
    const items = await (await context.client()).listExecutions(filterOf(context));
    emit(context, { items }, () =>
      renderTable(
        ['id', 'executor', 'resource', 'status', 'actor', 'created', 'finished', 'error'],
        items.map((execution) => [
          execution.id,
          execution.executor,
          `${execution.resource.type}:${execution.resource.id}`,
          execution.status,
          execution.actor,
          formatTime(execution.createdAt),
          formatTime(execution.finishedAt),
          execution.errorMessage,
        ]),
      ),
    );
    return EXIT.ok;
  },
};

export const executionsShowCommand: CommandSpec = {
  name: 'executions show',
  argsUsage: '<executionId>',
  summary: 'one execution: its steps as a timeline, attempts, workers and errors',
  positionals: { min: 1, max: 1 },
  async run(context) {
    const execution = await (await context.client()).getExecution(context.args[0] ?? '');
    emit(context, execution, () => renderExecution(execution));
    return EXIT.ok;
  },
};

export const cancelCommand: CommandSpec = {
  name: 'cancel',
  argsUsage: '<executionId>',
  summary: 'request the cancel of a running execution (cmd.execution.cancel)',
  positionals: { min: 1, max: 1 },
  async run(context) {
    const execution = await (await context.client()).cancelExecution(context.args[0] ?? '');
    context.output.out(context.json ? JSON.stringify(execution) : `execution ${execution.id}: ${execution.status}`);
    return EXIT.ok;
  },
};
