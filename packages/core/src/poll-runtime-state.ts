import { match } from 'ts-pattern';
import { BackendError, PollLimitError, TaskError } from './errors.ts';
import type { ResourcePatch, ResourceSnapshot } from './resource.ts';
import type { RetryPolicy } from './retry.ts';
import {
  defineTask,
  done,
  pollAgain,
  type ArgsParser,
  type TaskContext,
  type TaskDefinition,
  type TaskOutcome,
} from './task.ts';

/** What a backend getter reports of a resource's backend object; `null` when the object is gone. */
export interface BackendReading<O = unknown> {
  /** The backend's status, recorded as the resource's runtime state. */
  state: string;
  /** The backend's own error text, shown when the state is an erred one. */
  fault?: string;
  /** The object as read, for a success predicate or the patch recorded on success. */
  object?: O;
}

/** What a resource whose backend object is gone becomes: deleted, ERRED, or left as it is. */
export type DeletedOutcome = 'delete' | 'erred' | 'done';

/** When a poll of a backend state is over (Waldur's PollRuntimeStateTask). */
export interface RuntimeStateRule<O = unknown> {
  /** States (or a predicate over the reading) that end the poll successfully. */
  success: readonly string[] | ((reading: BackendReading<O>) => boolean);
  /** States that fail the step with the backend's fault. */
  erred: readonly string[];
  /** @defaultValue 'delete' */
  deleted?: DeletedOutcome;
  /** Extra fields to record on success (the object's size, flavor...). */
  onSuccess?: (reading: BackendReading<O>) => ResourcePatch;
}

export type RuntimeStateVerdict =
  | { kind: 'success'; patch: ResourcePatch }
  | { kind: 'erred'; state: string; fault: string | undefined }
  | { kind: 'deleted'; outcome: DeletedOutcome }
  | { kind: 'pending'; patch: ResourcePatch | undefined };

/** Pure decision of one poll: the reading against the rule; the runtime state is recorded when it changed. */
export function judgeRuntimeState<O>(
  reading: BackendReading<O> | null,
  currentRuntimeState: string,
  rule: RuntimeStateRule<O>,
): RuntimeStateVerdict {
  if (reading === null) return { kind: 'deleted', outcome: rule.deleted ?? 'delete' };
  const changed = reading.state === currentRuntimeState ? undefined : { runtimeState: reading.state };
  if (rule.erred.includes(reading.state)) {
    return { kind: 'erred', state: reading.state, fault: reading.fault };
  }
  const succeeded = typeof rule.success === 'function' ? rule.success(reading) : rule.success.includes(reading.state);
  if (succeeded) return { kind: 'success', patch: { ...changed, ...rule.onSuccess?.(reading) } };
  return { kind: 'pending', patch: changed };
}

/** The task outcome of a verdict; an erred state (or a gone object under 'erred') throws a BackendError. */
export function runtimeStateOutcome(verdict: RuntimeStateVerdict, noun: string, intervalMs?: number): TaskOutcome {
  return match(verdict)
    .with({ kind: 'success' }, ({ patch }) => done(patch))
    .with({ kind: 'pending' }, ({ patch }) => pollAgain(intervalMs, patch))
    .with({ kind: 'erred' }, ({ state, fault }) => {
      const message = fault ?? `${noun} went into ${state}`;
      throw new BackendError(`${noun} went into ${state}: ${message}`, { userMessage: message });
    })
    .with({ kind: 'deleted' }, ({ outcome }) =>
      match(outcome)
        .with('delete', () => done({ delete: true }))
        .with('done', () => done())
        .with('erred', () => {
          throw new BackendError(`${noun} is gone from the backend`, {
            userMessage: `${noun} is gone from the backend`,
          });
        })
        .exhaustive(),
    )
    .exhaustive();
}

/** A step-level poll limit (below the task's own `maxPolls`): fails the step once reached. */
export function checkPollLimit(task: string, pollCount: number, maxPolls: number | undefined): void {
  if (maxPolls !== undefined && pollCount >= maxPolls) throw new PollLimitError(task, pollCount);
}

/** The step's own resource, which a backend task needs. */
export function requireStepResource(resource: ResourceSnapshot | null, task: string): ResourceSnapshot {
  if (!resource) throw new TaskError(`Task ${task} needs a resource`);
  return resource;
}

export interface PollRuntimeStateOptions<A, S, O> {
  name: string;
  args?: ArgsParser<A>;
  /** The object's name in messages ("Server"). */
  noun: string;
  /** The backend getter: reads the resource's backend object. */
  read(ctx: TaskContext<S>, resource: ResourceSnapshot, args: A): Promise<BackendReading<O> | null>;
  rule: RuntimeStateRule<O> | ((args: A) => RuntimeStateRule<O>);
  pollIntervalMs?: number;
  maxPolls?: number;
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
}

/**
 * A task polling a backend state until success, erred or deleted (Waldur's PollRuntimeStateTask):
 * each re-check is a delayed step, the runtime state follows the backend's status.
 */
export function definePollRuntimeStateTask<A = unknown, S = unknown, O = unknown>(
  options: PollRuntimeStateOptions<A, S, O>,
): TaskDefinition<A, S> {
  return defineTask<A, S>({
    name: options.name,
    ...(options.args ? { args: options.args } : {}),
    pollIntervalMs: options.pollIntervalMs,
    maxPolls: options.maxPolls,
    timeoutMs: options.timeoutMs,
    retry: options.retry ?? { maxAttempts: 5, initialDelayMs: 1000 },
    sideEffects: false,
    async run(ctx, args) {
      const resource = requireStepResource(ctx.resource, options.name);
      const rule = typeof options.rule === 'function' ? options.rule(args) : options.rule;
      const reading = await options.read(ctx, resource, args);
      return runtimeStateOutcome(judgeRuntimeState(reading, resource.runtimeState, rule), options.noun);
    },
  });
}
