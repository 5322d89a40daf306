import { z } from 'zod';
import { definedJson, type Json } from './json.ts';
import type { StepCall } from './plan.ts';
import {
  checkPollLimit,
  judgeRuntimeState,
  requireStepResource,
  runtimeStateOutcome,
  type BackendReading,
  type DeletedOutcome,
} from './poll-runtime-state.ts';
import type { ResourcePatch, ResourceSnapshot } from './resource.ts';
import type { StepOptions } from './step.ts';
import { defineTask, done, type TaskContext, type TaskDefinition } from './task.ts';

/** What a backend method gets: the step's resource, its arguments, and what every backend call carries. */
export interface BackendCall<A = undefined> {
  resource: ResourceSnapshot;
  args: A;
  signal: AbortSignal;
  idempotencyKey: string;
  fencingToken: string | null;
  fencingSlot: string | null;
}

/** A backend method a plan can call by name: returns what to record on the resource, if anything. */
export type BackendMethod<A = never> = (call: BackendCall<A>) => Promise<ResourcePatch | void>;
/** A backend getter a plan can poll by name: the object's state, or null when it is gone. */
export type BackendGetter = (call: BackendCall<undefined>) => Promise<BackendReading | null>;

/** Names of the backend's methods that take a call and may return a patch. */
export type BackendMethodName<B> = {
  [K in keyof B & string]: B[K] extends BackendMethod ? K : never;
}[keyof B & string];
/** Names of the backend's getters. */
export type BackendGetterName<B> = {
  [K in keyof B & string]: B[K] extends BackendGetter ? K : never;
}[keyof B & string];
/** The arguments a backend method takes. */
export type BackendMethodArgs<M> = M extends (call: BackendCall<infer A>) => Promise<unknown> ? A : never;

/** A poll's options, given per step: when it is over, and how often and how long to look. */
export interface PollRuntimeStateStep {
  success: string[];
  erred: string[];
  /** @defaultValue 'delete' */
  deleted?: DeletedOutcome;
  intervalMs?: number;
  maxPolls?: number;
}

const callArgs = z.object({ method: z.string().min(1), args: z.json().optional() });
const pollArgs = z.object({
  getter: z.string().min(1),
  success: z.array(z.string()),
  erred: z.array(z.string()),
  deleted: z.enum(['delete', 'erred', 'done']).optional(),
  intervalMs: z.number().int().positive().optional(),
  maxPolls: z.number().int().positive().optional(),
});

export interface BackendTasksOptions<S, B> {
  /** Task names are `<prefix>.backend_call` and `<prefix>.poll_runtime_state`. */
  prefix: string;
  /** The backend the domain's services expose. */
  backend(services: S): B;
  /** The object's name in messages. @defaultValue 'Resource' */
  noun?: string;
  /** Retry and timeout of a backend call. */
  callRetry?: { maxAttempts?: number; initialDelayMs?: number };
  timeoutMs?: number;
}

export interface BackendTasks<S, B> {
  /** Calls a backend method by name with the resource (Waldur's BackendMethodTask). */
  readonly callTask: TaskDefinition<z.infer<typeof callArgs>, S>;
  /** Polls a backend getter until success, erred or deleted (Waldur's PollRuntimeStateTask). */
  readonly pollTask: TaskDefinition<z.infer<typeof pollArgs>, S>;
  /** Both, to register with the domain and to declare in executors' `tasks`. */
  readonly tasks: readonly [TaskDefinition<z.infer<typeof callArgs>, S>, TaskDefinition<z.infer<typeof pollArgs>, S>];
  call<M extends BackendMethodName<B>>(method: M, args: BackendMethodArgs<B[M]>, options?: StepOptions): StepCall;
  pollRuntimeState(getter: BackendGetterName<B>, poll: PollRuntimeStateStep, options?: StepOptions): StepCall;
}

function backendCall<A>(ctx: TaskContext<unknown>, resource: ResourceSnapshot, args: A): BackendCall<A> {
  const { signal, idempotencyKey, fencingToken, fencingSlot } = ctx;
  return { resource, args, signal, idempotencyKey, fencingToken, fencingSlot };
}

/** Looks a member up on the backend; a name the backend lacks fails the step for good. */
function member(backend: unknown, name: string, task: string): (call: BackendCall<unknown>) => Promise<unknown> {
  const found: unknown = typeof backend === 'object' && backend !== null ? Reflect.get(backend, name) : undefined;
  if (typeof found !== 'function') throw new TypeError(`Task ${task}: the backend has no method ${name}`);
  return (call) => Promise.resolve(Reflect.apply(found, backend, [call]));
}

/** The generic backend tasks of a domain whose services expose a backend, with typed step builders. */
export function defineBackendTasks<S, B>(options: BackendTasksOptions<S, B>): BackendTasks<S, B> {
  const noun = options.noun ?? 'Resource';
  const callName = `${options.prefix}.backend_call`;
  const pollName = `${options.prefix}.poll_runtime_state`;
  const callTask = defineTask<z.infer<typeof callArgs>, S>({
    name: callName,
    args: callArgs,
    retry: options.callRetry ?? { maxAttempts: 3, initialDelayMs: 1000 },
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    async run(ctx, args) {
      const resource = requireStepResource(ctx.resource, callName);
      const method = member(options.backend(ctx.services), args.method, callName);
      const patch = (await method(backendCall(ctx, resource, args.args))) as ResourcePatch | undefined;
      return done(patch);
    },
  });
  const pollTask = defineTask<z.infer<typeof pollArgs>, S>({
    name: pollName,
    args: pollArgs,
    retry: { maxAttempts: 5, initialDelayMs: 1000 },
    sideEffects: false,
    async run(ctx, args) {
      const resource = requireStepResource(ctx.resource, pollName);
      const getter = member(options.backend(ctx.services), args.getter, pollName);
      const reading = (await getter(backendCall(ctx, resource, undefined))) as BackendReading | null;
      const verdict = judgeRuntimeState(reading, resource.runtimeState, args);
      if (verdict.kind === 'pending') checkPollLimit(pollName, ctx.pollCount + 1, args.maxPolls);
      return runtimeStateOutcome(verdict, noun, args.intervalMs);
    },
  });
  const built: BackendTasks<S, B> = {
    callTask,
    pollTask,
    tasks: [callTask, pollTask] as const,
    call: (method, args, stepOptions = {}) => ({
      ...stepOptions,
      task: callName,
      args: definedJson({ method, args: args as Json | undefined }),
    }),
    pollRuntimeState: (getter, poll, stepOptions = {}) => ({
      ...stepOptions,
      task: pollName,
      args: definedJson({ getter, ...poll }),
    }),
  };
  return Object.freeze(built);
}
