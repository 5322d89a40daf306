import type { TaskClass, TaskDefinition } from './task.ts';
import { taskFromClass } from './task.ts';

// A definition written for any services (unknown) runs under this registry's services too.
function asDefinition<S>(
  entry: TaskDefinition<unknown, S> | TaskDefinition<unknown, unknown> | TaskClass<unknown, S>,
): TaskDefinition<unknown, S> {
  if (typeof entry === 'function') return taskFromClass(entry);
  return entry;
}

/** Tasks by name. A worker only runs what its registry holds. */
export class TaskRegistry<S = unknown> {
  readonly #tasks = new Map<string, TaskDefinition<unknown, S>>();

  /** Registers function-style definitions and task classes alike. */
  register(
    ...tasks: Array<TaskDefinition<unknown, S> | TaskDefinition<unknown, unknown> | TaskClass<unknown, S>>
  ): this {
    const definitions = tasks.map((entry) => asDefinition<S>(entry));
    // Check the whole batch first, so a duplicate registers nothing at all.
    const seen = new Set<string>();
    for (const { name } of definitions) {
      if (this.#tasks.has(name) || seen.has(name)) throw new TypeError(`Task ${name} is already registered`);
      seen.add(name);
    }
    for (const definition of definitions) this.#tasks.set(definition.name, definition);
    return this;
  }

  get(name: string): TaskDefinition<unknown, S> | undefined {
    return this.#tasks.get(name);
  }

  names(): string[] {
    return [...this.#tasks.keys()].sort();
  }
}
