import type { Json } from './json.ts';
import type { StepCall } from './plan.ts';
import type { ArgsParser } from './task.ts';

/**
 * A task as an executor declares it: its definition (or a `taskRef` handle), a task class, or its
 * name (another package's task).
 */
export type PlannedTask = string | { readonly name: string } | { readonly options: { readonly name: string } };

/** What a typed step needs of a task: its name and the type its parser returns. */
export interface TaskWithArgs<A> {
  readonly name: string;
  parseArgs(raw: unknown): A;
}

/** Everything a step may carry besides its task and arguments. */
export type StepOptions = Omit<StepCall, 'task' | 'args'>;

/** A task without a parser (or whose arguments may be left out) takes its arguments optionally. */
type StepArgs<A> = undefined extends A
  ? [args?: NoInfer<A>, options?: StepOptions]
  : [args: NoInfer<A>, options?: StepOptions];

/**
 * A typed handle on a task whose definition is built later (from configuration, by a factory):
 * its name and its argument parser, so steps naming it are typed like steps naming the definition.
 */
export function taskRef<A = unknown>(name: string, args?: ArgsParser<A>): TaskWithArgs<A> {
  return { name, parseArgs: (raw: unknown): A => (args ? args.parse(raw) : (raw as A)) };
}

export function taskName(task: PlannedTask): string {
  if (typeof task === 'string') return task;
  // A task class is a function whose own `name` is the class's, not the task's.
  if ('options' in task) return task.options.name;
  return task.name;
}

/**
 * One step of a plan, naming its task by definition: `args` is typed by the task's parser.
 * A name (a task of another package) is accepted too; the executor's `tasks` and the
 * services' start-up check make sure it exists.
 */
export function step<A>(task: TaskWithArgs<A>, ...rest: StepArgs<A>): StepCall;
export function step(task: string, args?: Json, options?: StepOptions): StepCall;
export function step(task: TaskWithArgs<unknown> | string, args?: unknown, options: StepOptions = {}): StepCall {
  // The typed overload guarantees the task's own argument type; plans store it as JSON.
  const json = args as Json | undefined;
  return { ...options, task: taskName(task), ...(json === undefined ? {} : { args: json }) };
}
