import { randomUUID } from 'node:crypto';
import { EVENT_NAMES, EVENT_VERSION, eventSubject, type ResourceEvent } from '@jetcel/contracts';
import { applyTransition, type ResourcePatch, type ResourceSnapshot, type ResourceState } from '@jetcel/core';
import { storableText } from './sql.ts';

/** Who caused a write, for the event it produces. */
export interface WriteContext {
  executionId: string | null;
  actor: string | null;
}

/** An event's outbox row: its id is the event's. */
export interface EventRow {
  id: string;
  subject: string;
  payload: string;
}

/**
 * What a patch (not a delete) writes, by property, on a row now in state `state`: its fields, the
 * transition's state and error fields, then the explicit ones (which win over the transition's
 * clearing: a failure handler sets both). `actionDetails` stays a JSON value.
 */
export function patchChanges(state: ResourceState, patch: ResourcePatch): Record<string, unknown> {
  const transition = patch.transition ? applyTransition(state, patch.transition) : undefined;
  const changes: Record<string, unknown> = { ...patch.fields };
  if (transition) changes.state = transition.state;
  if (patch.restore) {
    if (patch.transition) throw new TypeError('A patch cannot both restore and transition');
    Object.assign(changes, patch.restore);
  }
  if (transition?.errorMessage !== undefined) changes.errorMessage = transition.errorMessage;
  if (transition?.errorTraceback !== undefined) changes.errorTraceback = transition.errorTraceback;
  if (patch.errorMessage !== undefined) changes.errorMessage = storableText(patch.errorMessage);
  if (patch.errorTraceback !== undefined) changes.errorTraceback = storableText(patch.errorTraceback);
  if (patch.runtimeState !== undefined) changes.runtimeState = patch.runtimeState;
  if (patch.backendId !== undefined) changes.backendId = patch.backendId;
  if (patch.action !== undefined) changes.action = patch.action;
  if (patch.actionDetails !== undefined) changes.actionDetails = patch.actionDetails;
  return changes;
}

/** The outbox row of one resource event (a state change, a delete) at the resource's new version. */
export function resourceEvent(
  resource: ResourceSnapshot,
  event: string,
  from: string | null,
  to: string | null,
  context: WriteContext,
): EventRow {
  const eventId = randomUUID();
  const body: ResourceEvent = {
    v: EVENT_VERSION,
    eventId,
    resourceType: resource.type,
    resourceId: resource.id,
    resourceVersion: resource.version,
    from,
    to,
    executionId: context.executionId,
    actor: context.actor,
    at: new Date().toISOString(),
    ...(to === 'ERRED' && resource.errorMessage ? { error: resource.errorMessage } : {}),
  };
  return { id: eventId, subject: eventSubject(resource.type, resource.id, event), payload: JSON.stringify(body) };
}

/** The resource part of a one-statement step commit (see `StepCommit`). */
export interface PlannedResourceCommit {
  resource: { table: string; id: string; version: number; set?: Record<string, unknown> };
  events: EventRow[];
  /** The resource as the commit leaves it (its `modifiedAt` still the one read). */
  snapshot: ResourceSnapshot;
}

/**
 * A patch as the one-statement commit applies it: by column, by compare-and-set on the version the
 * step saw, with its event; null when only the stores apply it (a delete, a restore, domain fields).
 * Without a patch (null or empty): the version is only read.
 */
export function planResourceCommit(
  table: { tableName: string; columns: Map<string, string> },
  current: ResourceSnapshot,
  patch: ResourcePatch | null,
  context: WriteContext,
): PlannedResourceCommit | null {
  const at = { table: table.tableName, id: current.id, version: current.version };
  if (!patch) return { resource: at, events: [], snapshot: current };
  if (patch.delete || patch.restore || Object.keys(patch.fields ?? {}).length > 0) return null;
  const changes = patchChanges(current.state, patch);
  const set: Record<string, unknown> = {};
  for (const [property, value] of Object.entries(changes)) {
    const column = table.columns.get(property);
    if (!column) return null;
    set[column] = value;
  }
  if (Object.keys(set).length === 0) return { resource: at, events: [], snapshot: current };
  const next = { ...current, ...changes, version: current.version + 1 };
  const events = patch.transition
    ? [resourceEvent(next, EVENT_NAMES.stateChanged, current.state, next.state, context)]
    : [];
  return { resource: { ...at, set }, events, snapshot: next };
}
