import { randomUUID } from 'node:crypto';
import { formatResourceRef, MAX_TASK_ARGS_BYTES, type QueueName, type TaskLane } from '@jetcel/contracts';
import {
  failureSchema,
  ValidationError,
  type FailureInfo,
  type Json,
  type StepCall,
  type StepRole,
  type TaskDefinition,
} from '@jetcel/core';
import type { ExecutionRecord, NewStep, StepRecord, Tx } from '@jetcel/db';
import { localClaimFor } from './local-claim.ts';
import { addStepMessage } from './step-messages.ts';

/** Looks up task definitions to resolve a step's queue and start delay. */
export interface TaskCatalog {
  get(name: string): TaskDefinition<unknown, never> | undefined;
}

export type ExecutionHead = Pick<ExecutionRecord, 'id' | 'resourceType' | 'resourceId' | 'actor'>;

/**
 * Inserts a step row and its outbox row in the caller's transaction. The start delay applies to the
 * first attempt only; the failure handler receives the failure in its arguments.
 */
export async function queueStep(
  tx: Tx,
  catalog: TaskCatalog,
  execution: ExecutionHead,
  input: StepInput,
): Promise<StepRecord> {
  const pending = prepareStep(tx, catalog, execution, input);
  const step = await tx.steps.insert(pending.row);
  pending.inserted(step);
  return step;
}

/** A step to queue: the row to insert (by the caller, alone or with others), then `inserted` with what went in. */
export interface PendingStep {
  row: NewStep;
  /** Takes the worker's local claim offer (if it was made) once its row is inserted. */
  inserted(step: StepRecord): void;
  /** Whether `inserted` needs the row back (a local claim was offered); else the insert may go unread. */
  readonly needsRow: boolean;
}

/** `queueStep` in two halves, for an insert that carries more than this one row (`Progress.createManyQueued`). */
export function prepareStep(tx: Tx, catalog: TaskCatalog, execution: ExecutionHead, input: StepInput): PendingStep {
  const planned = input.parkedUntil
    ? { ...planStep(catalog, execution, input), notBefore: input.parkedUntil }
    : planStep(catalog, execution, input);
  const { notBefore } = planned;
  const lane = input.lane ?? 'short';
  const local = localClaimFor(tx, {
    executionId: execution.id,
    queue: planned.queue,
    role: input.role,
    task: planned.task,
    notBefore,
    lane,
  });
  // Its message is written first, so an insert that carries the transaction's outbox rows carries it too.
  // Claimed here, it has none: if this worker dies, the reconciler re-queues and publishes it.
  if (!local) addStepMessage(tx, { ...planned, attempts: 1 }, execution.actor, notBefore ?? undefined, lane);
  return {
    row: { ...planned, ...(local ? { claim: { token: local.token, worker: local.worker, ttlMs: local.ttlMs } } : {}) },
    inserted(step) {
      if (local) local.taken = { step };
    },
    needsRow: local !== null,
  };
}

type StepInput = {
  role: StepRole;
  position: number;
  member?: number;
  call: StepCall;
  failure?: FailureInfo;
  /** The lane its message takes (`stepLane`); default short. */
  lane?: TaskLane;
  /** A throttled newcomer parked on its scope's waiting list: its message is the fallback timer, due then. */
  parkedUntil?: Date;
};

/** The row a plan call becomes: its queue, start delay, arguments (with the failure for a handler) and resource. */
export function planStep(
  catalog: TaskCatalog,
  execution: ExecutionHead,
  input: StepInput,
): NewStep & { queue: QueueName } {
  const { call } = input;
  const task = catalog.get(call.task);
  const queue: QueueName = call.queue ?? task?.queue ?? 'regular';
  const startDelayMs = call.startDelayMs ?? task?.startDelayMs ?? 0;
  const args = withFailure(call.args ?? {}, input.failure);
  const size = Buffer.byteLength(JSON.stringify(args));
  if (size > MAX_TASK_ARGS_BYTES) {
    throw new ValidationError(`Arguments of task ${call.task} are ${size} bytes; the limit is ${MAX_TASK_ARGS_BYTES}`);
  }
  return {
    id: randomUUID(),
    executionId: execution.id,
    role: input.role,
    position: input.position,
    member: input.member ?? 0,
    task: call.task,
    queue,
    args,
    resourceRef: call.resource ?? formatResourceRef({ type: execution.resourceType, id: execution.resourceId }),
    before: call.before ?? null,
    ignoreErrors: call.ignoreErrors ?? false,
    throttled: call.throttled ?? false,
    notBefore: startDelayMs > 0 ? new Date(Date.now() + startDelayMs) : null,
  };
}

function withFailure(args: Json, failure: FailureInfo | undefined): Json {
  if (!failure) return args;
  const base = args !== null && typeof args === 'object' && !Array.isArray(args) ? args : {};
  const described: { [key: string]: Json } = {
    message: failure.message,
    traceback: failure.traceback,
    errorName: failure.errorName,
  };
  if (failure.cancelled) {
    const { backendEffectStarted, previous } = failure.cancelled;
    described.cancelled = { backendEffectStarted, previous: { ...previous } };
  }
  return { ...base, failure: described };
}

/** The failure a failure handler's call was given (`withFailure`), handed on to the next call of its chain. */
export function failureInArgs(args: Json | null): FailureInfo | undefined {
  const carried = args !== null && typeof args === 'object' && !Array.isArray(args) ? args.failure : undefined;
  const parsed = failureSchema.safeParse(carried);
  if (!parsed.success) return undefined;
  const { errorName, cancelled, ...rest } = parsed.data;
  return { ...rest, errorName: errorName ?? '', ...(cancelled ? { cancelled } : {}) };
}
