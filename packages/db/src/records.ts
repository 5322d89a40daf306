import {
  readPlan,
  type FailureInfo,
  type Json,
  type JsonObject,
  type Plan,
  type ResourcePatch,
  type StepRole,
} from '@jetcel/core';
import type { ExecutionStatus } from './entities/execution.ts';
import type { StepStatus } from './entities/step.ts';

/** The scope lease an execution holds; the revision is its fencing token. */
export interface ExecutionLease {
  kind: string;
  scope: string;
  key: string;
  revision: number;
  token: string;
}

export interface ExecutionRecord {
  id: string;
  executor: string;
  resourceType: string;
  resourceId: string;
  status: ExecutionStatus;
  plan: Plan;
  params: JsonObject;
  actor: string | null;
  parentStepId: string | null;
  lease: ExecutionLease | null;
  resourceBefore: { state: string; errorMessage: string; errorTraceback: string } | null;
  errorMessage: string;
  errorTraceback: string;
  createdAt: Date;
  updatedAt: Date;
  finishedAt: Date | null;
}

export interface StepRecord {
  id: string;
  executionId: string;
  role: StepRole;
  position: number;
  member: number;
  task: string;
  queue: string;
  args: Json | null;
  resourceRef: string | null;
  before: ResourcePatch | null;
  ignoreErrors: boolean;
  throttled: boolean;
  status: StepStatus;
  attempts: number;
  polls: number;
  /** Claims taken over from a holder that died: the crash budget. */
  takeovers: number;
  prepared: boolean;
  claimToken: string | null;
  claimedUntil: Date | null;
  worker: string | null;
  queuedAt: Date;
  notBefore: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  errorMessage: string;
  errorTraceback: string;
  result: Json | null;
}

export type { FailureInfo };

/** The driver hands timestamps back as strings; records carry Dates. */
export function toDate(value: unknown): Date {
  return value instanceof Date ? value : new Date(String(value));
}

export function toDateOrNull(value: unknown): Date | null {
  return value === null || value === undefined ? null : toDate(value);
}

export function toExecutionRecord(row: Record<string, unknown>): ExecutionRecord {
  return {
    id: String(row.id),
    executor: String(row.executor),
    resourceType: String(row.resource_type),
    resourceId: String(row.resource_id),
    status: row.status as ExecutionStatus,
    plan: readPlan(row.plan),
    params: (row.params ?? {}) as JsonObject,
    actor: (row.actor as string | null) ?? null,
    parentStepId: (row.parent_step_id as string | null) ?? null,
    lease: (row.lease ?? null) as ExecutionLease | null,
    resourceBefore: (row.resource_before ?? null) as ExecutionRecord['resourceBefore'],
    errorMessage: String((row.error_message as string | null) ?? ''),
    errorTraceback: String((row.error_traceback as string | null) ?? ''),
    createdAt: toDate(row.created_at),
    updatedAt: toDate(row.updated_at),
    finishedAt: toDateOrNull(row.finished_at),
  };
}

export function toStepRecord(row: Record<string, unknown>): StepRecord {
  return {
    id: String(row.id),
    executionId: String(row.execution_id),
    role: row.role as StepRole,
    position: Number(row.position),
    member: Number(row.member ?? 0),
    task: String(row.task),
    queue: String(row.queue),
    args: (row.args ?? null) as Json | null,
    resourceRef: (row.resource_ref as string | null) ?? null,
    before: row.before ?? null,
    ignoreErrors: Boolean(row.ignore_errors),
    throttled: Boolean(row.throttled),
    status: row.status as StepStatus,
    attempts: Number(row.attempts),
    polls: Number(row.polls),
    takeovers: Number(row.takeovers ?? 0),
    prepared: Boolean(row.prepared),
    claimToken: (row.claim_token as string | null) ?? null,
    claimedUntil: toDateOrNull(row.claimed_until),
    worker: (row.worker as string | null) ?? null,
    queuedAt: toDate(row.queued_at),
    notBefore: toDate(row.not_before),
    startedAt: toDateOrNull(row.started_at),
    finishedAt: toDateOrNull(row.finished_at),
    errorMessage: String((row.error_message as string | null) ?? ''),
    errorTraceback: String((row.error_traceback as string | null) ?? ''),
    result: (row.result ?? null) as Json | null,
  };
}
