import { BUILTIN_TASKS } from './builtin-tasks.ts';
import type { ExecutorDefinition, ExecutorKind } from './executor.ts';
import { isGroup, type Plan, type StepCall } from './plan.ts';
import { taskName } from './step.ts';

/** An executor's plan named a task it did not declare in `tasks`: the declaration is what start-up checks. */
export class UndeclaredTaskError extends Error {
  readonly code = 'UNDECLARED_PLAN_TASK';
  constructor(
    readonly executor: string,
    readonly task: string,
  ) {
    super(`Executor ${executor} planned task ${task}, which is not among the tasks it declares (its \`tasks\`)`);
    this.name = 'UndeclaredTaskError';
  }
}

export interface MissingPlannedTask {
  executor: string;
  task: string;
}

/** A service refuses to start: registered executors can plan tasks that no registered task has. */
export class UnknownPlannedTaskError extends Error {
  readonly code = 'UNKNOWN_PLANNED_TASK';
  constructor(readonly missing: readonly MissingPlannedTask[]) {
    super(
      `Executors plan tasks that are not registered: ${missing
        .map(({ executor, task }) => `executor ${executor} has a step with task ${task}`)
        .join('; ')}`,
    );
    this.name = 'UnknownPlannedTaskError';
  }
}

/** The handlers an executor gets without naming them (see `buildPlan`). */
function defaultHandlerTasks(kind: ExecutorKind): string[] {
  return kind === 'delete'
    ? [BUILTIN_TASKS.deleteResource, BUILTIN_TASKS.setErred]
    : [BUILTIN_TASKS.setOk, BUILTIN_TASKS.setErred];
}

type Declaring = Pick<ExecutorDefinition<never>, 'kind' | 'tasks'>;
// Definitions are frozen: each executor's set is built once, not on every plan.
const plannable = new WeakMap<Declaring, ReadonlySet<string>>();

/** Every task name the executor's plans can contain: what it declares and its default handlers. */
export function plannableTasks(executor: Declaring): ReadonlySet<string> {
  const known = plannable.get(executor);
  if (known) return known;
  const names = new Set([...executor.tasks.map(taskName), ...defaultHandlerTasks(executor.kind)]);
  if (Object.isFrozen(executor)) plannable.set(executor, names);
  return names;
}

/** Throws UndeclaredTaskError when a built plan names a task outside `plannableTasks`. */
export function assertDeclaredTasks(
  executor: Pick<ExecutorDefinition<never>, 'name' | 'kind' | 'tasks'>,
  plan: Plan,
): void {
  const allowed = plannableTasks(executor);
  const calls: StepCall[] = [
    ...plan.steps.flatMap((node) => (isGroup(node) ? node.group : [node])),
    ...plan.onSuccess,
    ...plan.onFailure,
  ];
  const undeclared = calls.find((call) => !allowed.has(call.task));
  if (undeclared) throw new UndeclaredTaskError(executor.name, undeclared.task);
}

/**
 * The services' start-up check: every task a registered executor can plan is registered.
 * Throws UnknownPlannedTaskError naming each executor and task that is not.
 */
export function checkPlannedTasks(
  registry: { get(name: string): unknown },
  executors: Iterable<Pick<ExecutorDefinition<never>, 'name' | 'kind' | 'tasks'>>,
): void {
  const missing: MissingPlannedTask[] = [];
  for (const executor of executors) {
    for (const task of plannableTasks(executor)) {
      if (registry.get(task) === undefined) missing.push({ executor: executor.name, task });
    }
  }
  if (missing.length > 0) throw new UnknownPlannedTaskError(missing);
}
