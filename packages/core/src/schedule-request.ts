import { TaskError } from './errors.ts';
import type { ExecutorDefinition } from './executor.ts';
import type { JsonObject } from './json.ts';
import type { ResourceSnapshot } from './resource.ts';

/**
 * What a refused schedule request does to the outcome that asked for it. A refusal is the
 * executor's preApply saying no (the resource is busy, deleted, or in the wrong state).
 * `fail`: nothing of the outcome is written, and the step (or background run) fails with
 * `SCHEDULE_REFUSED`. `skip`: the request is logged and dropped; the rest of the outcome commits.
 */
export type OnRefused = 'fail' | 'skip';

/** Options of one scheduled execution, from a command or a task's outcome. */
export interface ScheduleCallOptions {
  /** Route this execution's steps to tasks.heavy, as `heavy: true` on the definition does. */
  heavy?: boolean;
}

export interface ScheduleRequestOptions extends ScheduleCallOptions {
  /** @defaultValue 'fail' */
  onRefused?: OnRefused;
}

/** An execution a task's outcome asks for: scheduled in the same transaction as the outcome's commit. */
export interface ScheduleRequest {
  readonly executor: ExecutorDefinition<never>;
  /** "<type>:<id>" of the resource the execution runs on. */
  readonly resource: string;
  readonly params: JsonObject;
  readonly heavy: boolean;
  readonly onRefused: OnRefused;
}

/**
 * A request to run `executor` on `resource` with `params` (typed by the executor), for a task's
 * outcome: `doneWith({ schedule: [scheduleOf(instancePull, ctx.resource, {})] })`. The executor's
 * preApply runs in the commit, against the row as it is then (after the outcome's own patches).
 */
export function scheduleOf<P extends JsonObject>(
  executor: ExecutorDefinition<P>,
  resource: ResourceSnapshot | string,
  params: P,
  options: ScheduleRequestOptions = {},
): ScheduleRequest {
  const ref = typeof resource === 'string' ? resource : `${resource.type}:${resource.id}`;
  const type = ref.slice(0, ref.indexOf(':'));
  if (type !== executor.resourceType) {
    throw new TypeError(`Executor ${executor.name} runs on ${executor.resourceType}, not on ${ref}`);
  }
  return Object.freeze({
    executor,
    resource: ref,
    params,
    heavy: options.heavy ?? false,
    onRefused: options.onRefused ?? 'fail',
  });
}

/**
 * A schedule request with `onRefused: 'fail'` was refused: the outcome that asked for it is not
 * written and its step (or background run) fails. Not retried.
 */
export class ScheduleRefusedError extends TaskError {
  readonly code = 'SCHEDULE_REFUSED' as const;
  readonly details: { executor: string; resource: string; reason: string };
  constructor(request: Pick<ScheduleRequest, 'executor' | 'resource'>, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(`Scheduling ${request.executor.name} on ${request.resource} was refused: ${reason}`, { cause });
    this.details = { executor: request.executor.name, resource: request.resource, reason };
  }
}
