import { BUILTIN_TASKS, runExecutor } from './builtin-tasks.ts';
import type { ExecutorDefinition } from './executor.ts';
import type { JsonObject } from './json.ts';
import type { StepCall } from './plan.ts';
import type { StepOptions } from './step.ts';

/**
 * What `onSuccess` / `onFailure` return: one call, or a chain of calls run in order. Any call
 * may be another executor (`handler.executor`), which runs as a nested execution; the chain
 * goes on (or the execution ends) when it has ended.
 */
export type Handler = StepCall | readonly StepCall[];

/** Handler calls: the default transitions on any resource, and another executor. */
export const handler = {
  /** The default success handler's call: OK, action cleared (the execution's resource unless named). */
  setOk(resource?: string): StepCall {
    return { task: BUILTIN_TASKS.setOk, ...(resource === undefined ? {} : { resource }) };
  },
  /** The default failure handler's call: ERRED with the execution's failure (see `failurePatch`). */
  setErred(resource?: string): StepCall {
    return { task: BUILTIN_TASKS.setErred, ...(resource === undefined ? {} : { resource }) };
  },
  /**
   * Another executor as a handler (or one call of a chain): its preApply runs when the call is
   * reached, and the handler ends when that execution ends — failed if it failed. `resource` is
   * "<type>:<id>"; undefined means the execution's own. The executor declares `runExecutorTask`.
   */
  executor<Q extends JsonObject>(
    executor: ExecutorDefinition<Q>,
    resource: string | undefined,
    params: Q,
    options: Pick<StepOptions, 'queue' | 'startDelayMs'> = {},
  ): StepCall {
    const call = runExecutor(executor.name, resource ?? '', params, options);
    if (resource === undefined) delete call.resource;
    return call;
  },
};

/** A handler as the plan stores it: a chain of at least one call. */
export function handlerChain(value: Handler, name: string, role: 'onSuccess' | 'onFailure'): StepCall[] {
  const chain: StepCall[] = Array.isArray(value) ? [...(value as readonly StepCall[])] : [value as StepCall];
  if (chain.length === 0) throw new TypeError(`Executor ${name} has an empty ${role} chain`);
  return chain;
}
