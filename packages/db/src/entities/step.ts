import { defineEntity, p } from '@mikro-orm/core';
import type { Json, ResourcePatch } from '@jetcel/core';
import { Execution } from './execution.ts';

export const STEP_STATUSES = ['queued', 'running', 'waiting', 'succeeded', 'failed', 'cancelled', 'dead'] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];
export const STEP_ROLES = ['main', 'success', 'failure'] as const;

/** One step of an execution; `claimToken` guards every write of a running step. */
export const Step = defineEntity({
  name: 'Step',
  tableName: 'jetcel_step',
  properties: {
    id: p.uuid().primary(),
    execution: p.manyToOne(Execution).deleteRule('cascade'),
    role: p.enum([...STEP_ROLES]).nativeEnumName('step_role'),
    position: p.integer(),
    /** Index within a group (0 for a plain chain step). */
    member: p.integer().default(0),
    task: p.string(),
    queue: p.string(),
    args: p.json<Json>().nullable(),
    resourceRef: p.string().nullable(),
    before: p.json<ResourcePatch>().nullable(),
    ignoreErrors: p.boolean().default(false),
    /** The step enters its execution's throttled span (takes the scope lease). */
    throttled: p.boolean().default(false),
    status: p
      .enum([...STEP_STATUSES])
      .nativeEnumName('step_status')
      .default('queued'),
    /** 1-based attempt; only a retry after a failure increments it (polls and takeovers do not). */
    attempts: p.integer().default(1),
    polls: p.integer().default(0),
    prepared: p.boolean().default(false),
    claimToken: p.uuid().nullable(),
    claimedUntil: p.datetime().nullable(),
    worker: p.string().nullable(),
    queuedAt: p.datetime().defaultRaw('now()'),
    notBefore: p.datetime().defaultRaw('now()'),
    startedAt: p.datetime().nullable(),
    finishedAt: p.datetime().nullable(),
    errorMessage: p.text().default(''),
    errorTraceback: p.text().default(''),
    result: p.json<Json>().nullable(),
  },
  indexes: [{ properties: ['status', 'claimedUntil'] }],
  uniques: [{ properties: ['execution', 'role', 'position', 'member'] }],
});
