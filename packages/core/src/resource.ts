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
}

export function isEmptyPatch(patch: ResourcePatch | undefined): boolean {
  return patch === undefined || Object.keys(patch).length === 0;
}
