import type { TaskClass, TaskDefinition } from './task.ts';
import { taskFromClass } from './task.ts';

/** Tasks by name. A worker only runs what its registry holds. */
export class TaskRegistry<S = unknown> {
  readonly #tasks = new Map<string, TaskDefinition<unknown, S>>();

  /** Registers function-style definitions and task classes alike. */
  register(...tasks: Array<TaskDefinition<unknown, S> | TaskDefinition<unknown, unknown> | TaskClass<unknown, S>>): this {
    for (const entry of tasks) {
      const definition = (typeof entry === 'function' ? taskFromClass(entry) : entry) as TaskDefinition<unknown, S>;
      if (this.#tasks.has(definition.name)) throw new TypeError(`Task ${definition.name} is already registered`);
      this.#tasks.set(definition.name, definition);
    }
    return this;
  }

  get(name: string): TaskDefinition<unknown, S> | undefined {
    return this.#tasks.get(name);
  }

  names(): string[] {
    return [...this.#tasks.keys()].sort();
  }
}
