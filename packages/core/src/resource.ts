import type { Json, JsonObject } from './json.ts';
import type { ResourceState, TransitionName } from './states.ts';

/** What a task sees of its resource: the row as read at claim time. */
export interface ResourceSnapshot {
  type: string;
  id: string;
  state: ResourceState;
  version: number;
  errorMessage: string;
  errorTraceback: string;
  action: string;
  actionDetails: JsonObject;
  runtimeState: string;
  backendId: string | null;
  /** ISO time of the row's last write. */
  modifiedAt: string;
  /** Domain columns (e.g. name, cloudSettingsId), by property name. */
  fields: Record<string, Json>;
}

/**
 * A change to a resource row, applied as one compare-and-set write. A transition is checked
 * against the state machine; `fields` are domain or common columns by property name.
 */
export interface ResourcePatch {
  transition?: TransitionName;
  runtimeState?: string;
  backendId?: string;
  action?: string;
  actionDetails?: JsonObject;
  errorMessage?: string;
  errorTraceback?: string;
  fields?: Record<string, Json>;
  /** Delete the row (a tombstone event is written). */
  delete?: true;
  /** Put the row back as it was before an operation (a cancel with no backend effect). */
  restore?: { state: ResourceState; errorMessage: string; errorTraceback: string };
}

/** A patch for another resource than the step's own (compensation: a failed instance's volumes). */
export interface RelatedPatch {
  ref: string;
  /** The version the task read; the write is a compare-and-set on it. */
  version: number;
  patch: ResourcePatch;
}

/** Read access to resources for tasks that look beyond their own (done by the runtime). */
export interface ResourceReader {
  get(ref: string): Promise<ResourceSnapshot | null>;
  /** Resources of a type whose domain fields equal the given values, optionally narrowed further. */
  find(type: string, where: Record<string, Json>, options?: FindOptions): Promise<ResourceSnapshot[]>;
  /** Every resource type the worker's domains register (watchdogs). */
  types(): string[];
  /** The newest execution on a resource, if any (watchdogs). */
  latestExecution(ref: string): Promise<{ id: string; executor: string; status: string } | null>;
}

export interface FindOptions {
  states?: ResourceState[];
  /** Only rows whose last write is older than this. */
  modifiedBefore?: Date;
  /** Only rows that have (true) or lack (false) a backend id. */
  hasBackendId?: boolean;
  /** @defaultValue 1000 */
  limit?: number;
}

export function isEmptyPatch(patch: ResourcePatch | undefined): boolean {
  return patch === undefined || Object.keys(patch).length === 0;
}
