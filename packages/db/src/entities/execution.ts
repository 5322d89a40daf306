import { defineEntity, p } from '@mikro-orm/core';
import type { Plan, JsonObject } from '@jetcel/core';

export const EXECUTION_STATUSES = ['running', 'cancel_requested', 'succeeded', 'failed', 'cancelled'] as const;
export type ExecutionStatus = (typeof EXECUTION_STATUSES)[number];

/** One run of an executor. Refers to its resource by (type, id) without a foreign key. */
export const Execution = defineEntity({
  name: 'Execution',
  tableName: 'jetcel_execution',
  properties: {
    id: p.uuid().primary(),
    executor: p.string(),
    resourceType: p.string(),
    resourceId: p.string(),
    status: p
      .enum([...EXECUTION_STATUSES])
      .nativeEnumName('execution_status')
      .default('running'),
    plan: p.json<Plan>(),
    params: p.json<JsonObject>().default('{}'),
    actor: p.string().nullable(),
    /** The step of the outer execution this one runs for (nested executors). */
    parentStepId: p.uuid().nullable(),
    /** The scope lease the execution holds while in its throttled span. */
    lease: p.json<{ kind: string; scope: string; key: string; revision: number; token: string }>().nullable(),
    /** The resource's state and error fields before preApply, restored by a cancel with no backend effect. */
    resourceBefore: p.json<{ state: string; errorMessage: string; errorTraceback: string }>().nullable(),
    errorMessage: p.text().default(''),
    errorTraceback: p.text().default(''),
    createdAt: p.datetime().defaultRaw('now()'),
    updatedAt: p.datetime().defaultRaw('now()'),
    finishedAt: p.datetime().nullable(),
  },
  indexes: [{ properties: ['resourceType', 'resourceId'] }, { properties: ['status', 'createdAt'] }],
});
