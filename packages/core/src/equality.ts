import { isDeepStrictEqual } from 'node:util';
import type { Json } from './json.ts';

/** A background run as equality sees it: its task, the resource it works on, its arguments. */
export interface BackgroundRunView {
  name: string;
  /** "<type>:<id>", or null when the run names no resource. */
  resource: string | null;
  args: Json;
}

/**
 * Waldur's `is_equal`: whether a run about to be queued (`candidate`) is equal to one already
 * queued or running (`active`), so the candidate is skipped. Both are runs of the same task.
 */
export type EqualityPredicate = (candidate: BackgroundRunView, active: BackgroundRunView) => boolean;

/** The three modes, as shorthands of predicates (the runtime keeps them race-free with a unique key). */
export type EqualityMode = 'name' | 'resource' | 'none';

export type Equality = EqualityMode | EqualityPredicate;

export const EQUALITY_SHORTHANDS: Readonly<Record<EqualityMode, EqualityPredicate>> = Object.freeze({
  /** One run of the task at a time. */
  name: (candidate, active) => candidate.name === active.name,
  /** One run per resource. */
  resource: (candidate, active) => candidate.name === active.name && candidate.resource === active.resource,
  /** No limit. */
  none: () => false,
});

/** Equal by name, resource and arguments (deep equality of the JSON arguments). */
export const sameNameResourceAndArgs: EqualityPredicate = (candidate, active) =>
  EQUALITY_SHORTHANDS.resource(candidate, active) && isDeepStrictEqual(candidate.args, active.args);

/** The predicate an equality stands for. */
export function equalityPredicate(equality: Equality): EqualityPredicate {
  return typeof equality === 'function' ? equality : EQUALITY_SHORTHANDS[equality];
}
