import { randomUUID } from 'node:crypto';
import { MAX_TASK_ARGS_BYTES, parseResourceRef } from '@jetcel/contracts';
import { ValidationError, type BackgroundRunView, type Json, type TaskDefinition } from '@jetcel/core';
import type { Tx } from '@jetcel/db';
import { match } from 'ts-pattern';
import { addBackgroundMessage } from './messages.ts';
import type { TaskCatalog } from '../execution/queue-step.ts';

export interface BackgroundRequest {
  task: string;
  /** "<type>:<id>" when the task works on one resource (equality by name and resource). */
  resource?: string;
  args?: Json;
  /** Not published before this instant. */
  notBefore?: Date;
}

export type EnqueueResult =
  | { kind: 'queued'; runId: string }
  /** An equal run is queued or running: nothing was written. */
  | { kind: 'skipped'; equalityKey: string; equalTo?: string };

/**
 * The key two runs share when they are "equal"; null when the task defines no equality or a
 * predicate (checked against the active runs instead).
 */
export function equalityKey(task: Pick<TaskDefinition, 'name' | 'equality'>, resource: string | null): string | null {
  if (typeof task.equality === 'function') return null;
  return match(task.equality)
    .with('name', () => task.name)
    .with('resource', () => {
      if (resource === null)
        throw new ValidationError(`Background task ${task.name} has equality by resource but was given none`);
      return `${task.name}|${resource}`;
    })
    .with('none', () => null)
    .exhaustive();
}

/** A predicate equality (Waldur's `is_equal`): the id of a queued or running run equal to the candidate. */
async function equalActiveRun(
  tx: Tx,
  task: Pick<TaskDefinition, 'name' | 'equality'>,
  candidate: BackgroundRunView,
): Promise<string | null> {
  const { equality } = task;
  if (typeof equality !== 'function') return null;
  const active = await tx.backgroundRuns.lockActiveOf(task.name);
  const equal = active.find((run) =>
    equality(candidate, { name: run.task, resource: run.resourceRef, args: run.args ?? {} }),
  );
  return equal?.id ?? null;
}

/**
 * Queues a background task in the caller's transaction: its run row (which holds its equality
 * while it is queued or running) and the outbox row that publishes it after COMMIT. When an equal
 * run is queued or running, nothing is written and the result says `skipped`.
 */
export async function enqueueBackground(
  tx: Tx,
  catalog: TaskCatalog,
  request: BackgroundRequest,
): Promise<EnqueueResult> {
  const task = catalog.get(request.task);
  if (!task) throw new ValidationError(`Unknown background task "${request.task}"`);
  if (task.queue !== 'background')
    throw new ValidationError(`Task ${task.name} is on the ${task.queue} queue, not a background task`);
  const resource = request.resource ?? null;
  if (resource !== null) parseResourceRef(resource);
  const args = request.args ?? {};
  const size = Buffer.byteLength(JSON.stringify(args));
  if (size > MAX_TASK_ARGS_BYTES)
    throw new ValidationError(`Arguments of task ${task.name} are ${size} bytes; the limit is ${MAX_TASK_ARGS_BYTES}`);
  const equal = await equalActiveRun(tx, task, { name: task.name, resource, args });
  if (equal) return { kind: 'skipped', equalityKey: task.name, equalTo: equal };
  const key = equalityKey(task, resource);
  const run = await tx.backgroundRuns.insert({
    id: randomUUID(),
    task: task.name,
    equalityKey: key,
    resourceRef: resource,
    args,
    notBefore: request.notBefore ?? null,
  });
  if (!run) return { kind: 'skipped', equalityKey: key ?? task.name };
  addBackgroundMessage(tx, run, request.notBefore);
  return { kind: 'queued', runId: run.id };
}
