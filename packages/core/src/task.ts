import type { QueueName } from '@jetcel/contracts';
import type { Equality } from './equality.ts';
import type { Json } from './json.ts';
import type { Logger } from './logger.ts';
import type { RelatedPatch, ResourcePatch, ResourceReader, ResourceSnapshot } from './resource.ts';
import { DEFAULT_RETRY, type RetryPolicy } from './retry.ts';
import type { ScheduleRequest } from './schedule-request.ts';

/** Everything a running task may use. Nothing here does I/O by itself except through `services`. */
export interface TaskContext<S = unknown> {
  /** Aborted on lease loss, timeout or shutdown: stop at once. Pass it to every backend call. */
  signal: AbortSignal;
  /**
   * Aborted when the execution is cancelled. Cooperative: long loops should stop, but a backend
   * call already in flight may finish, so its result (a backend id) is still recorded.
   */
  cancelSignal: AbortSignal;
  /** 1-based attempt of this step (retries count, polls do not). */
  attempt: number;
  /** Number of earlier polls of this step (0 on the first run). */
  pollCount: number;
  /** Stable per step ("<executionId>:<stepId>"): send it with every backend call. */
  idempotencyKey: string;
  /** The scope lease's fencing token (its KV revision), when the step runs under a throttle lease. */
  fencingToken: string | null;
  /** The lease slot the fencing token belongs to; backends compare tokens per slot. */
  fencingSlot: string | null;
  /** Extends the step's claim (and lease); the runtime also does it on a timer. */
  heartbeat(): Promise<void>;
  log: Logger;
  actor: string | null;
  executionId: string | null;
  stepId: string | null;
  /** The step's resource as read at claim time, when the step names one. */
  resource: ResourceSnapshot | null;
  /** Reads other resources (a failure handler compensating related rows). */
  resources: ResourceReader;
  /** Dependencies the worker was composed with (a backend client, ...). */
  services: S;
}

/** What a task run produced. A thrown error is a failure (retried or final, see TaskError). */
/** A background task to queue from a background task's commit (e.g. one pull per resource). */
export interface BackgroundEnqueue {
  task: string;
  /** "<type>:<id>" when the task works on one resource (equality by name and resource). */
  resource?: string;
  args?: Json;
}

export interface DoneOutcome {
  kind: 'done';
  result?: Json;
  patch?: ResourcePatch;
  also?: RelatedPatch[];
  /**
   * Executions to start (`scheduleOf(executor, resource, params, { heavy? })`), in the same
   * transaction as this outcome's commit, after its patches: they commit together or not at all.
   */
  schedule?: ScheduleRequest[];
  /** Background tasks only: more background tasks to queue in the same commit. */
  enqueue?: BackgroundEnqueue[];
  /** Background tasks only: executions to cancel in the same commit (watchdogs). */
  cancel?: string[];
}

export type TaskOutcome = DoneOutcome | { kind: 'poll'; afterMs?: number; result?: Json; patch?: ResourcePatch };

export const done = (patch?: ResourcePatch, result?: Json, also?: RelatedPatch[]): TaskOutcome => ({
  kind: 'done',
  patch,
  result,
  ...(also ? { also } : {}),
});
/** `done` with any of its parts by name: `doneWith({ patch, schedule: [scheduleOf(...)] })`. */
export const doneWith = (parts: Omit<DoneOutcome, 'kind'>): TaskOutcome => ({ kind: 'done', ...parts });
export const pollAgain = (afterMs?: number, patch?: ResourcePatch): TaskOutcome => ({ kind: 'poll', afterMs, patch });

/** Anything with a zod-like `parse`: validates raw JSON arguments into the task's type. */
export interface ArgsParser<A> {
  parse(value: unknown): A;
}

export interface TaskOptions<A = unknown> {
  name: string;
  /** Bump when the argument shape changes incompatibly; workers wait out versions they lack. */
  version?: number;
  /** @defaultValue 'regular' */
  queue?: QueueName;
  retry?: Partial<RetryPolicy>;
  /** Abort the run after this long; the step then fails like any error. */
  timeoutMs?: number;
  /** Delay of the step's first attempt only. */
  startDelayMs?: number;
  /** Interval between polls when the task returns `pollAgain()` without a delay. */
  pollIntervalMs?: number;
  /** Polls allowed before the step fails. */
  maxPolls?: number;
  /**
   * Background tasks: when a run is "equal" to one queued or running, and so skipped. A predicate
   * over name, resource and args (Waldur's `is_equal`), or a shorthand: 'name': one run of the task
   * at a time; 'resource': one per resource; 'none': no limit. @defaultValue 'name'
   */
  equality?: Equality;
  /**
   * Whether running the task touches a backend. A cancel before any such step restores the
   * resource instead of leaving it ERRED. @defaultValue true
   */
  sideEffects?: boolean;
  args?: ArgsParser<A>;
  /**
   * Background tasks: at most `limit` runs of this kind hold a slot per scope at once (the slots
   * executor spans use); the others wait, queued, and look again shortly. A run whose worker dies
   * frees its slot when the slot's lease expires.
   */
  throttle?: TaskThrottle<A>;
}

/** A background task's throttle: the lease kind, the scope a run falls in, the kind's limit in code. */
export interface TaskThrottle<A = unknown> {
  kind: string;
  scope(args: A, resource: ResourceSnapshot | null): string;
  limit?: number;
}

export interface TaskDefinition<A = unknown, S = unknown> {
  readonly name: string;
  readonly version: number;
  readonly queue: QueueName;
  readonly retry: RetryPolicy;
  readonly timeoutMs: number | undefined;
  readonly startDelayMs: number;
  readonly pollIntervalMs: number;
  readonly maxPolls: number;
  readonly sideEffects: boolean;
  readonly equality: Equality;
  readonly throttle?: TaskThrottle<A>;
  parseArgs(raw: unknown): A;
  run(ctx: TaskContext<S>, args: A): Promise<TaskOutcome | void>;
}

const DEFAULT_POLL_INTERVAL_MS = 5000;

/** Drops keys whose value is undefined, so they keep their defaults when spread over them. */
function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as Partial<T>;
}
const DEFAULT_MAX_POLLS = 1200;

function buildDefinition<A, S>(
  options: TaskOptions<A>,
  run: (ctx: TaskContext<S>, args: A) => Promise<TaskOutcome | void>,
): TaskDefinition<A, S> {
  if (!/^[a-z][a-z0-9_.-]*$/i.test(options.name)) throw new TypeError(`Invalid task name "${options.name}"`);
  const parser = options.args;
  return Object.freeze({
    name: options.name,
    version: options.version ?? 1,
    queue: options.queue ?? 'regular',
    retry: { ...DEFAULT_RETRY, ...definedOnly(options.retry ?? {}) },
    timeoutMs: options.timeoutMs,
    startDelayMs: options.startDelayMs ?? 0,
    pollIntervalMs: options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS,
    maxPolls: options.maxPolls ?? DEFAULT_MAX_POLLS,
    sideEffects: options.sideEffects ?? true,
    equality: options.equality ?? 'name',
    ...(options.throttle ? { throttle: options.throttle } : {}),
    parseArgs: (raw: unknown): A => (parser ? parser.parse(raw) : (raw as A)),
    run,
  });
}

/** Function style, the counterpart of Celery's `@shared_task`. */
export function defineTask<A = unknown, S = unknown>(
  options: TaskOptions<A> & { run(this: void, ctx: TaskContext<S>, args: A): Promise<TaskOutcome | void> },
): TaskDefinition<A, S> {
  return buildDefinition(options, options.run);
}

/** Class style, the counterpart of `celery.Task`: set `static options` and implement `run`. */
export abstract class Task<A = unknown, S = unknown> {
  static options: TaskOptions;
  abstract run(ctx: TaskContext<S>, args: A): Promise<TaskOutcome | void>;
}

export type TaskClass<A = unknown, S = unknown> = {
  options: TaskOptions<A>;
  new (): Task<A, S>;
};

export function taskFromClass<A, S>(cls: TaskClass<A, S>): TaskDefinition<A, S> {
  const instance = new cls();
  return buildDefinition(cls.options, (ctx, args) => instance.run(ctx, args));
}
