import { randomUUID } from 'node:crypto';
import { silentLogger, type ResourceReader, type ResourceSnapshot, type TaskContext } from '@jetcel/core';

/** A resource snapshot for a unit test: an OK row of `type` with these fields (and any common column overridden). */
export function fakeResource(
  type: string,
  fields: ResourceSnapshot['fields'] = {},
  overrides: Partial<Omit<ResourceSnapshot, 'type' | 'fields'>> = {},
): ResourceSnapshot {
  return {
    type,
    id: randomUUID(),
    state: 'OK',
    version: 1,
    errorMessage: '',
    errorTraceback: '',
    action: '',
    actionDetails: {},
    runtimeState: '',
    backendId: null,
    modifiedAt: new Date().toISOString(),
    fields,
    ...overrides,
  };
}

/** A reader over the given snapshots (by "<type>:<id>"): `get` and `find` by field equality; no executions. */
export function fakeResourceReader(resources: readonly ResourceSnapshot[] = []): ResourceReader {
  return {
    types: () => [...new Set(resources.map((resource) => resource.type))],
    get: async (ref) => resources.find((resource) => `${resource.type}:${resource.id}` === ref) ?? null,
    find: async (type, where, options = {}) =>
      resources
        .filter((resource) => resource.type === type)
        .filter((resource) => Object.entries(where).every(([key, value]) => resource.fields[key] === value))
        .filter((resource) => !options.states || options.states.includes(resource.state))
        .slice(0, options.limit ?? 1000),
    latestExecution: async () => null,
  };
}

/**
 * The context a worker gives a task, for a unit test of one task: no servers. Every field has a
 * harmless default (a fresh execution and step id, attempt 1, no lease, a silent logger, signals
 * that never abort); `services` is required since a task's services are what the test controls.
 */
export function fakeTaskContext<S>(overrides: Partial<TaskContext<S>> & { services: S }): TaskContext<S> {
  const executionId = overrides.executionId ?? randomUUID();
  const stepId = overrides.stepId ?? randomUUID();
  return {
    signal: new AbortController().signal,
    cancelSignal: new AbortController().signal,
    attempt: 1,
    pollCount: 0,
    idempotencyKey: `${executionId}:${stepId}`,
    fencingToken: null,
    fencingSlot: null,
    heartbeat: async () => undefined,
    log: silentLogger,
    actor: null,
    resource: null,
    resources: fakeResourceReader(overrides.resource ? [overrides.resource] : []),
    ...overrides,
    executionId,
    stepId,
  };
}
