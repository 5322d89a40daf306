import type { ExecutionView, StepView } from '@jetcel/client';
import { formatDuration, formatTime, renderTable } from './table.ts';

const stepState = (step: StepView): string => `${step.status}:${step.attempts}:${step.polls}`;

/** One progress line per step that changed since the previous view: "step 2/4  task  status  attempt n". */
export function progressLines(previous: ExecutionView | null, next: ExecutionView): string[] {
  const before = new Map((previous?.steps ?? []).map((step) => [step.id, stepState(step)]));
  const steps = next.steps ?? [];
  const lines: string[] = [];
  steps.forEach((step, index) => {
    if (before.get(step.id) === stepState(step)) return;
    const parts = [
      `step ${index + 1}/${steps.length}`,
      step.task,
      step.status,
      `attempt ${step.attempts}`,
      ...(step.polls > 0 ? [`polls ${step.polls}`] : []),
      ...(step.durationMs !== null ? [formatDuration(step.durationMs)] : []),
      ...(step.errorMessage ? [`error: ${step.errorMessage}`] : []),
    ];
    lines.push(parts.join('  '));
  });
  if (previous?.status !== next.status) lines.push(`execution ${next.id} ${next.status}`);
  return lines;
}

/** The closing line of a followed execution. */
export function outcomeLine(execution: ExecutionView): string {
  const took =
    execution.createdAt && execution.finishedAt
      ? ` in ${formatDuration(Date.parse(execution.finishedAt) - Date.parse(execution.createdAt))}`
      : '';
  const error = execution.errorMessage ? `: ${execution.errorMessage}` : '';
  return `${execution.executor} on ${execution.resource.type} ${execution.resource.id}: ${execution.status}${took}${error}`;
}

/** `executions show`: the execution, its steps as a timeline, and its error. */
export function renderExecution(execution: ExecutionView): string {
  const head = renderTable(
    ['field', 'value'],
    [
      ['id', execution.id],
      ['executor', execution.executor],
      ['resource', `${execution.resource.type} ${execution.resource.id}`],
      ['status', execution.status],
      ['actor', execution.actor],
      ['created', formatTime(execution.createdAt)],
      ['finished', formatTime(execution.finishedAt)],
      ['error', execution.errorMessage],
    ],
  );
  const steps = renderTable(
    ['#', 'role', 'task', 'queue', 'status', 'attempts', 'polls', 'worker', 'started', 'took', 'error'],
    (execution.steps ?? []).map((step, index) => [
      index + 1,
      step.role,
      step.task,
      step.queue,
      step.status,
      step.attempts,
      step.polls,
      step.worker,
      formatTime(step.startedAt),
      formatDuration(step.durationMs),
      step.errorMessage,
    ]),
  );
  const traceback = execution.errorTraceback ? `\ntraceback:\n${execution.errorTraceback}` : '';
  return `${head}\n\nsteps:\n${steps}${traceback}`;
}
