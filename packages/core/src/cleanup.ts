import { transitionTask } from './builtin-tasks.ts';
import { defineExecutor, type ExecutorDefinition } from './executor.ts';
import type { AuthorizeHook } from './identity.ts';
import type { Json, JsonObject } from './json.ts';
import type { StepCall } from './plan.ts';
import type { ResourceSnapshot } from './resource.ts';
import { step, taskName } from './step.ts';
import { cleanupRelatedTask } from './cleanup-task.ts';

/** One kind of resource a cleanup deletes before its parent. */
export interface RelatedResources {
  resourceType: string;
  /** The delete executor run on each related resource (its definition, or its name). */
  executor: { readonly name: string } | string;
  /** The domain fields that link a related row to the parent, e.g. `(project) => ({ projectId: project.id })`. */
  where(parent: ResourceSnapshot): Record<string, Json>;
  /** The params of each delete, e.g. `{ force: true }` (a forced delete removes the row even when it fails). */
  params?: JsonObject;
  /**
   * Resource types (of this cleanup's `related`) that resources of this type depend on: those are
   * deleted after these, dependents first (an instance depends on its volumes: instances go first).
   */
  dependsOn?: readonly string[];
}

export interface CleanupExecutorDefinition {
  name: string;
  /** The parent's resource type: deleted last, once every related resource is gone. */
  resourceType: string;
  related: readonly RelatedResources[];
  authorize?: AuthorizeHook;
  heavy?: boolean;
  /** How often the cleanup looks again while related resources are busy or being deleted. @defaultValue 2000 */
  pollIntervalMs?: number;
  /** How long one type's resources may take to be gone (busy ones waited for, then deleted) before the cleanup fails. @defaultValue 10 min */
  timeoutMs?: number;
}

/** A cleanup's `dependsOn` names a resource type its `related` does not list. */
export class CleanupDependencyError extends Error {
  readonly code = 'CLEANUP_UNKNOWN_DEPENDENCY';
  constructor(
    readonly executor: string,
    readonly resourceType: string,
    readonly dependency: string,
  ) {
    super(
      `Cleanup ${executor}: ${resourceType} depends on ${dependency}, which is not among its related resource types`,
    );
    this.name = 'CleanupDependencyError';
  }
}

/** A cleanup's related types depend on each other in a circle: no type can be deleted first. */
export class CleanupCycleError extends Error {
  readonly code = 'CLEANUP_DEPENDENCY_CYCLE';
  constructor(
    readonly executor: string,
    readonly cycle: readonly string[],
  ) {
    super(`Cleanup ${executor}: its related resource types depend on each other in a cycle: ${cycle.join(' → ')}`);
    this.name = 'CleanupCycleError';
  }
}

/**
 * The order a cleanup deletes its related types in: a type before every type it depends on
 * (dependents first), otherwise in declaration order. Throws on an unknown dependency or a cycle.
 */
export function cleanupOrder(executor: string, related: readonly RelatedResources[]): RelatedResources[] {
  const byType = new Map<string, RelatedResources>();
  for (const relation of related) {
    if (byType.has(relation.resourceType))
      throw new TypeError(`Cleanup ${executor}: resource type ${relation.resourceType} is listed twice`);
    byType.set(relation.resourceType, relation);
  }
  // Edges point from a dependent to what it depends on; a type is ready once nothing left depends on it.
  const dependents = new Map<string, Set<string>>([...byType.keys()].map((type) => [type, new Set<string>()]));
  for (const relation of related) {
    for (const dependency of relation.dependsOn ?? []) {
      const set = dependents.get(dependency);
      if (!set) throw new CleanupDependencyError(executor, relation.resourceType, dependency);
      set.add(relation.resourceType);
    }
  }
  const ordered: RelatedResources[] = [];
  const left = new Map(byType);
  while (left.size > 0) {
    const ready = [...left.values()].find((relation) =>
      [...(dependents.get(relation.resourceType) ?? [])].every((dependent) => !left.has(dependent)),
    );
    if (!ready) throw new CleanupCycleError(executor, findCycle(left));
    ordered.push(ready);
    left.delete(ready.resourceType);
  }
  return ordered;
}

/** A cycle among the types left (each of them has a dependent left, so following dependsOn loops). */
function findCycle(left: ReadonlyMap<string, RelatedResources>): string[] {
  const path: string[] = [];
  let current = [...left.keys()][0] ?? '';
  while (!path.includes(current)) {
    path.push(current);
    current = left.get(current)?.dependsOn?.find((type) => left.has(type)) ?? current;
  }
  return [...path.slice(path.indexOf(current)), current];
}

const DEFAULT_INTERVAL_MS = 2000;
const DEFAULT_TIMEOUT_MS = 10 * 60_000;

/**
 * A delete executor for a parent with related resources (Waldur's cleanup executor with its
 * `related_executor`s): when its steps run, each related type's rows are found by `where`, each
 * deleted by its own executor in the declared dependency order, busy ones waited for; then the
 * parent row is deleted. An unknown dependency or a cycle throws here, at start-up.
 */
export function defineCleanupExecutor<P = JsonObject>(definition: CleanupExecutorDefinition): ExecutorDefinition<P> {
  const ordered = cleanupOrder(definition.name, definition.related);
  const intervalMs = definition.pollIntervalMs ?? DEFAULT_INTERVAL_MS;
  const timeoutMs = definition.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const cleanupStep = (relation: RelatedResources, parent: ResourceSnapshot): StepCall =>
    step(cleanupRelatedTask, {
      resourceType: relation.resourceType,
      executor: taskName(relation.executor),
      where: relation.where(parent),
      params: relation.params ?? {},
      intervalMs,
      timeoutMs,
    });
  return defineExecutor<P>({
    name: definition.name,
    kind: 'delete',
    resourceType: definition.resourceType,
    ...(definition.heavy === undefined ? {} : { heavy: definition.heavy }),
    ...(definition.authorize ? { authorize: definition.authorize } : {}),
    tasks: [transitionTask, cleanupRelatedTask],
    steps: ({ resource }) => [
      step(transitionTask, { transition: 'begin_deleting' }),
      ...ordered.map((relation) => cleanupStep(relation, resource)),
    ],
  });
}
