import { InvalidStateError } from './errors.ts';

export const RESOURCE_STATES = [
  'CREATION_SCHEDULED',
  'CREATING',
  'UPDATE_SCHEDULED',
  'UPDATING',
  'DELETION_SCHEDULED',
  'DELETING',
  'OK',
  'ERRED',
] as const;
export type ResourceState = (typeof RESOURCE_STATES)[number];

export const TRANSITIONS = {
  begin_creating: { from: ['CREATION_SCHEDULED'], to: 'CREATING' },
  begin_updating: { from: ['UPDATE_SCHEDULED'], to: 'UPDATING' },
  begin_deleting: { from: ['DELETION_SCHEDULED'], to: 'DELETING' },
  schedule_updating: { from: ['OK', 'ERRED'], to: 'UPDATE_SCHEDULED' },
  schedule_deleting: { from: ['OK', 'ERRED'], to: 'DELETION_SCHEDULED' },
  set_ok: { from: '*', to: 'OK' },
  set_erred: { from: '*', to: 'ERRED' },
  recover: { from: ['ERRED'], to: 'OK' },
} as const satisfies Record<string, { from: readonly ResourceState[] | '*'; to: ResourceState }>;
export type TransitionName = keyof typeof TRANSITIONS;

/** Transitions that start an operation: they clear the previous error. */
const STARTS_OPERATION: ReadonlySet<TransitionName> = new Set([
  'begin_creating',
  'begin_updating',
  'begin_deleting',
  'schedule_updating',
  'schedule_deleting',
]);

export function isTransitionName(value: string): value is TransitionName {
  return Object.hasOwn(TRANSITIONS, value);
}

export function isResourceState(value: string): value is ResourceState {
  return (RESOURCE_STATES as readonly string[]).includes(value);
}

export class IllegalTransitionError extends InvalidStateError {
  constructor(transition: TransitionName, current: ResourceState) {
    super(`Cannot apply transition ${transition} to a resource in state ${current}`, {
      transition,
      current,
    });
  }
}

export function canTransition(current: ResourceState, transition: TransitionName): boolean {
  const { from } = TRANSITIONS[transition];
  return from === '*' || (from as readonly ResourceState[]).includes(current);
}

/** The fields a transition writes. `undefined` leaves a field as it is. */
export interface TransitionResult {
  state: ResourceState;
  errorMessage?: string;
  errorTraceback?: string;
}

/**
 * Applies a transition with Waldur's error-field rules: starting an operation clears both
 * error fields; leaving ERRED for a non-error state clears them too (ERRED → ERRED does not count).
 */
export function applyTransition(current: ResourceState, transition: TransitionName): TransitionResult {
  if (!canTransition(current, transition)) throw new IllegalTransitionError(transition, current);
  const to = TRANSITIONS[transition].to;
  const clears = STARTS_OPERATION.has(transition) || (current === 'ERRED' && to !== 'ERRED');
  return clears ? { state: to, errorMessage: '', errorTraceback: '' } : { state: to };
}
