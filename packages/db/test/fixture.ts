import { randomUUID } from 'node:crypto';
import type { Plan } from '@jetcel/core';
import { createTestDatabase, type TestDatabase } from '@jetcel/testing';
import { Db } from '../src/db.ts';
import type { NewStep } from '../src/step-store.ts';
import type { NewExecution } from '../src/execution-store.ts';
import { defineResourceEntity } from '../src/entities/resource-entity.ts';
import { FRAMEWORK_MIGRATIONS, migrateUp, type MigrationSet } from '../src/migrate.ts';

/** A throwaway resource type for the db tests. */
export const Widget = defineResourceEntity({
  name: 'Widget',
  tableName: 'test_widget',
  resourceType: 'widget',
  properties: (p) => ({ label: p.string() }),
});

export const widgetMigrations: MigrationSet = {
  name: 'dbtest',
  migrations: [
    {
      name: 'm001_widget',
      up: [
        `create table "test_widget" ("id" uuid not null primary key, "state" "resource_state" not null default 'CREATION_SCHEDULED', "version" int not null default 1, "error_message" text not null default '', "error_traceback" text not null default '', "action" varchar(50) not null default '', "action_details" jsonb not null default '{}', "runtime_state" varchar(150) not null default '', "backend_id" varchar(255) null, "created_at" timestamptz not null default now(), "modified_at" timestamptz not null default now(), "label" varchar(255) not null)`,
        `comment on table "test_widget" is 'jetcel-resource:widget'`,
      ],
      down: ['drop table "test_widget"'],
    },
  ],
};

export async function setupDb(): Promise<{ database: TestDatabase; db: Db; close(): Promise<void> }> {
  const database = await createTestDatabase({ prefix: 'db' });
  await migrateUp(database.url, [FRAMEWORK_MIGRATIONS, widgetMigrations]);
  const db = await Db.connect({ url: database.url, entities: [Widget] });
  return {
    database,
    db,
    async close() {
      await db.close();
      await database.drop();
    },
  };
}

/** A plan of one `noop` step and the built-in handlers. */
export const oneStepPlan: Plan = {
  v: 2,
  executor: 'test',
  steps: [{ task: 'noop' }],
  onSuccess: [{ task: 'jetcel.set_ok' }],
  onFailure: [{ task: 'jetcel.set_erred' }],
};

/** The first step of an execution: the task `noop`, on `resourceRef` when given, queued unless `claim`. */
export function firstStepRow(
  executionId: string,
  resourceRef: string | null = null,
  claim?: NewStep['claim'],
): NewStep {
  return {
    id: randomUUID(),
    executionId,
    role: 'main',
    position: 0,
    task: 'noop',
    queue: 'regular',
    args: null,
    resourceRef,
    before: null,
    ignoreErrors: false,
    notBefore: null,
    ...(claim ? { claim } : {}),
  };
}

/** A new execution of `plan` (a one-step plan unless given) on the widget `resourceId`. */
export function executionRow(id: string, resourceId: string, plan: Plan = oneStepPlan): NewExecution {
  return { id, executor: 'test', resourceType: 'widget', resourceId, plan, params: {}, actor: null };
}

/** A running execution of `plan` with its first step (queued, or claimed with `claim`). */
export async function insertFirstStep(
  db: Db,
  plan: Plan,
  claim?: NewStep['claim'],
): Promise<{ executionId: string; stepId: string }> {
  const executionId = randomUUID();
  const step = firstStepRow(executionId, null, claim);
  await db.transaction(async (tx) => {
    await tx.executions.create(executionRow(executionId, randomUUID(), plan));
    await tx.steps.insert(step);
  });
  return { executionId, stepId: step.id };
}
