import { parseResourceRef } from '@jetcel/contracts';
import type { Logger, ResourceReader, ResourceSnapshot, TaskContext, TaskRegistry } from '@jetcel/core';
import type { Db } from '@jetcel/db';
import type { Progress } from '../execution/progress.ts';
import type { BackgroundCommitDeps } from './commit.ts';

/** What every background run, claimed or standalone, works with (built once per worker). */
export interface BackgroundEnv<S> {
  db: Db;
  registry: TaskRegistry<S>;
  services: S;
  /** One reader for every run: it only needs the database. */
  resources: ResourceReader;
  progress: Progress;
  /** The catalog and progress, as the outcome's commit wants them. */
  deps: BackgroundCommitDeps;
}

/** The run's resource: `gone` when the message names one that no longer exists. */
export type Loaded = { kind: 'loaded'; resource: ResourceSnapshot | null } | { kind: 'gone' };

export async function loadResource(db: Db, ref: string | null): Promise<Loaded> {
  if (ref === null) return { kind: 'loaded', resource: null };
  const { type, id } = parseResourceRef(ref);
  const resource = await db.read((tx) => tx.resources.get(type, id));
  return resource ? { kind: 'loaded', resource } : { kind: 'gone' };
}

/**
 * The task context of a background task, without its attempt and idempotency key. It belongs to
 * no execution: nothing can cancel it (its `cancelSignal` is runTask's, never aborted), only stop
 * it (`signal`).
 */
export function backgroundContext<S>(
  env: BackgroundEnv<S>,
  resource: ResourceSnapshot | null,
  actor: string | null,
  log: Logger,
): Omit<TaskContext<S>, 'signal' | 'heartbeat' | 'cancelSignal' | 'attempt' | 'idempotencyKey'> {
  return {
    actor,
    resource,
    resources: env.resources,
    services: env.services,
    log,
    pollCount: 0,
    fencingToken: null,
    fencingSlot: null,
    executionId: null,
    stepId: null,
  };
}
