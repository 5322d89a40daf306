import { match } from 'ts-pattern';
import { InvalidStateError, ValidationError } from './errors.ts';
import type { JsonObject } from './json.ts';
import { isGroup, PLAN_VERSION, type Plan, type PlanNode, type StepCall } from './plan.ts';
import { handlerChain, type Handler } from './handler.ts';
import type { PreApplyContext } from './pre-apply-context.ts';
import type { ResourcePatch, ResourceSnapshot } from './resource.ts';
import { canTransition } from './states.ts';
import { BUILTIN_TASKS } from './builtin-tasks.ts';
import type { AuthorizeHook } from './identity.ts';
import { assertDeclaredTasks } from './planned-tasks.ts';
import type { PlannedTask } from './step.ts';
import type { ScheduleCallOptions } from './schedule-request.ts';

export type ExecutorKind = 'create' | 'update' | 'delete' | 'action';

export interface ExecutorInput<P> {
  resource: ResourceSnapshot;
  params: P;
}

/** One logical operation on a resource: a plan of tasks and the handlers that set its final state. */
export interface ExecutorDefinition<P = JsonObject> {
  name: string;
  kind: ExecutorKind;
  resourceType: string;
  /** Route every step to tasks.heavy (Waldur's is_heavy_task). */
  heavy?: boolean;
  /** Action executors: the action label recorded on the resource. */
  action?: string;
  actionDetails?(input: ExecutorInput<P>): JsonObject;
  /**
   * Every task the steps and handlers can name (definitions, or names of other packages' tasks);
   * the default handlers need not be listed. Services check them at start-up, and a plan naming
   * any other task is refused when it is built.
   */
  tasks: readonly PlannedTask[];
  steps(input: ExecutorInput<P>): PlanNode[];
  /**
   * At most N executions of this kind hold the throttled span at once per scope: the
   * span starts at the step marked `throttled` and ends with the main chain (before the handlers).
   * `limit` is N for the kind as declared in code; a `jetcel_throttle_limit` row overrides it at run
   * time, and without either the deployment's default (`THROTTLE_DEFAULT_LIMIT`) applies.
   */
  throttle?: { kind: string; scope(input: ExecutorInput<P>): string; limit?: number };
  /**
   * The success handler: one call or a chain (default: `handler.setOk()`, a delete's removes the row).
   * A failure inside it runs the failure handler.
   */
  onSuccess?(input: ExecutorInput<P>): Handler;
  /**
   * The failure handler: one call or a chain, each call given the failure in `args.failure`
   * (default: `handler.setErred()`). A failure inside it ends the execution failed, the first error kept.
   */
  onFailure?(input: ExecutorInput<P>): Handler;
  /**
   * Runs in the transaction that schedules the execution, after the built-in state checks (a
   * command's, a nested executor's, a task's `schedule`): e.g. marks or schedules a related
   * resource. Throwing refuses the execution.
   */
  preApply?(ctx: PreApplyContext<P>): Promise<void> | void;
  /**
   * Asked before a command schedules this executor for a verified caller. Without a
   * hook, any authenticated caller may run it.
   */
  authorize?: AuthorizeHook;
}

export function defineExecutor<P = JsonObject>(definition: ExecutorDefinition<P>): ExecutorDefinition<P> {
  return Object.freeze({ ...definition });
}

/** What preApply does to the resource inside the caller's transaction. */
export type PreApply = { kind: 'noop' } | { kind: 'apply'; patch: ResourcePatch | undefined };

export function preApply<P>(executor: ExecutorDefinition<P>, input: ExecutorInput<P>): PreApply {
  const { state } = input.resource;
  const requireOkOrErred = (transition: 'schedule_updating' | 'schedule_deleting'): void => {
    if (!canTransition(state, transition)) {
      throw new InvalidStateError(
        `Cannot run ${executor.name} on ${executor.resourceType} ${input.resource.id}: it is ${state}, not OK or ERRED`,
        { state, executor: executor.name },
      );
    }
  };
  return match(executor.kind)
    .with('create', (): PreApply => {
      if (state !== 'CREATION_SCHEDULED') {
        throw new InvalidStateError(`A create executor needs a CREATION_SCHEDULED resource, not ${state}`, { state });
      }
      return { kind: 'apply', patch: undefined };
    })
    .with('update', (): PreApply => {
      if (!hasUpdatedFields(input.params)) {
        throw new ValidationError(
          `${executor.name} needs the changed fields (params.updatedFields); nothing was changed`,
        );
      }
      requireOkOrErred('schedule_updating');
      return { kind: 'apply', patch: { transition: 'schedule_updating' } };
    })
    .with('delete', (): PreApply => {
      requireOkOrErred('schedule_deleting');
      return { kind: 'apply', patch: { transition: 'schedule_deleting' } };
    })
    .with('action', (): PreApply => {
      if (state === 'UPDATE_SCHEDULED') return { kind: 'noop' };
      requireOkOrErred('schedule_updating');
      return {
        kind: 'apply',
        patch: {
          transition: 'schedule_updating',
          action: executor.action ?? '',
          actionDetails: executor.actionDetails?.(input) ?? {},
        },
      };
    })
    .exhaustive();
}

function defaultOnSuccess(kind: ExecutorKind): StepCall {
  return kind === 'delete' ? { task: BUILTIN_TASKS.deleteResource } : { task: BUILTIN_TASKS.setOk };
}

/** A delete with force removes the row even when it fails (Waldur: the resource was ERRED). */
function defaultOnFailure(kind: ExecutorKind, params: unknown): StepCall {
  const force =
    kind === 'delete' &&
    typeof params === 'object' &&
    params !== null &&
    (params as { force?: unknown }).force === true;
  return force ? { task: BUILTIN_TASKS.deleteResource } : { task: BUILTIN_TASKS.setErred };
}

function hasUpdatedFields(params: unknown): boolean {
  return (
    typeof params === 'object' &&
    params !== null &&
    Array.isArray((params as { updatedFields?: unknown }).updatedFields)
  );
}

/**
 * The stored plan: the executor's steps plus its handlers, with heavy routing applied (from the
 * definition, or for this one execution with `options.heavy`).
 */
export function buildPlan<P>(
  executor: ExecutorDefinition<P>,
  input: ExecutorInput<P>,
  options: ScheduleCallOptions = {},
): Plan {
  const heavy = executor.heavy === true || options.heavy === true;
  const route = (call: StepCall): StepCall => (heavy && !call.queue ? { ...call, queue: 'heavy' } : call);
  const steps = executor
    .steps(input)
    .map((node): PlanNode => (isGroup(node) ? { ...node, group: node.group.map(route) } : route(node)));
  for (const node of steps) {
    if (isGroup(node) && node.group.length === 0)
      throw new TypeError(`Executor ${executor.name} planned an empty group`);
  }
  if (steps.length === 0) throw new TypeError(`Executor ${executor.name} planned no steps`);
  const onSuccess = handlerChain(
    executor.onSuccess?.(input) ?? defaultOnSuccess(executor.kind),
    executor.name,
    'onSuccess',
  );
  const onFailure = handlerChain(
    executor.onFailure?.(input) ?? defaultOnFailure(executor.kind, input.params),
    executor.name,
    'onFailure',
  );
  const plan: Plan = {
    v: PLAN_VERSION,
    executor: executor.name,
    steps,
    onSuccess: onSuccess.map(route),
    onFailure: onFailure.map(route),
    ...(executor.throttle ? { throttle: { kind: executor.throttle.kind, scope: executor.throttle.scope(input) } } : {}),
  };
  assertDeclaredTasks(executor, plan);
  return plan;
}

/** Executors by name, for commands that schedule them. */
export class ExecutorRegistry {
  readonly #executors = new Map<string, ExecutorDefinition<never>>();
  register(...executors: Array<ExecutorDefinition<never>>): this {
    for (const executor of executors) {
      if (this.#executors.has(executor.name)) throw new TypeError(`Executor ${executor.name} is already registered`);
      this.#executors.set(executor.name, executor);
    }
    return this;
  }
  get(name: string): ExecutorDefinition<never> | undefined {
    return this.#executors.get(name);
  }
  /** Every registered executor, for the start-up check of the tasks they plan. */
  all(): Array<ExecutorDefinition<never>> {
    return [...this.#executors.values()];
  }
}
