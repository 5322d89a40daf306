import type { TaskContext } from '@jetcel/core';
import type { Db, EntityWrites, TaskEntityManager } from '@jetcel/db';

const STEP_ENTITIES = Symbol('jetcel.stepEntities');

/** `taskEntityManager` was called with the context of a run that has no step commit (a background task, a fake context). */
export class TaskEntitiesUnavailableError extends Error {
  readonly code = 'NO_TASK_ENTITIES';
  constructor() {
    super("only a step's task has an entity manager: its writes commit with the step's result");
    this.name = 'TaskEntitiesUnavailableError';
  }
}

/** The unit of work of one step run, opened the first time the task asks for it. */
export class StepEntities {
  #writes: EntityWrites | null = null;

  constructor(private readonly db: Db) {}

  get view(): TaskEntityManager {
    this.#writes ??= this.db.entityWrites();
    return this.#writes.view;
  }

  /** The writes the step's commit must flush: null when the task changed nothing (the fast commit still applies). */
  pending(): EntityWrites | null {
    return this.#writes?.pending ? this.#writes : null;
  }
}

/** Gives a step's task context its unit of work (read by `taskEntityManager`). */
export function withStepEntities<C extends object>(context: C, entities: StepEntities): C {
  return Object.assign(context, { [STEP_ENTITIES]: entities });
}

/**
 * The entity manager of a running step's task: find, create, change, persist and remove the
 * domain's own entities (jetcel's tables are refused, `FRAMEWORK_ENTITY`). There is no `flush`:
 * the step's commit flushes the unit of work, so the writes commit with the step's result (a done
 * or a poll) or not at all (an error, a lost claim).
 */
export function taskEntityManager<S>(ctx: TaskContext<S>): TaskEntityManager {
  const entities = (ctx as TaskContext<S> & { [STEP_ENTITIES]?: StepEntities })[STEP_ENTITIES];
  if (!entities) throw new TaskEntitiesUnavailableError();
  return entities.view;
}
