import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  IllegalTransitionError,
  InvalidStateError,
  JetcelError,
  RESOURCE_STATES,
  TRANSITIONS,
  applyTransition,
  canTransition,
  isResourceState,
  isTransitionName,
  type ResourceState,
  type TransitionName,
} from '../src/index.ts';

// Waldur's state transition table, written out independently of src/states.ts.
const ALL_STATES: readonly ResourceState[] = [
  'CREATION_SCHEDULED',
  'CREATING',
  'UPDATE_SCHEDULED',
  'UPDATING',
  'DELETION_SCHEDULED',
  'DELETING',
  'OK',
  'ERRED',
];

const TABLE: Record<TransitionName, { from: readonly ResourceState[]; to: ResourceState }> = {
  begin_creating: { from: ['CREATION_SCHEDULED'], to: 'CREATING' },
  begin_updating: { from: ['UPDATE_SCHEDULED'], to: 'UPDATING' },
  begin_deleting: { from: ['DELETION_SCHEDULED'], to: 'DELETING' },
  schedule_updating: { from: ['OK', 'ERRED'], to: 'UPDATE_SCHEDULED' },
  schedule_deleting: { from: ['OK', 'ERRED'], to: 'DELETION_SCHEDULED' },
  set_ok: { from: ALL_STATES, to: 'OK' },
  set_erred: { from: ALL_STATES, to: 'ERRED' },
  recover: { from: ['ERRED'], to: 'OK' },
};
const TRANSITION_NAMES = Object.keys(TABLE) as TransitionName[];

const OPERATION_STARTS: readonly TransitionName[] = [
  'begin_creating',
  'begin_updating',
  'begin_deleting',
  'schedule_updating',
  'schedule_deleting',
];

function assertIllegal(current: ResourceState, transition: TransitionName): void {
  assert.throws(
    () => applyTransition(current, transition),
    (error: unknown) => {
      assert.ok(error instanceof IllegalTransitionError);
      assert.ok(error instanceof InvalidStateError);
      assert.ok(error instanceof JetcelError);
      assert.equal(error.name, 'IllegalTransitionError');
      assert.equal(error.code, 'INVALID_STATE');
      assert.equal(error.message, `Cannot apply transition ${transition} to a resource in state ${current}`);
      assert.deepEqual(error.details, { transition, current });
      return true;
    },
  );
}

test('A1: the eight states, CREATION_SCHEDULED first (the default of a new row)', () => {
  assert.deepEqual([...RESOURCE_STATES], ALL_STATES);
  assert.equal(RESOURCE_STATES[0], 'CREATION_SCHEDULED');
});

test('A1: exactly the eight named transitions exist, each with its target state', () => {
  assert.deepEqual(Object.keys(TRANSITIONS).sort(), [...TRANSITION_NAMES].sort());
  for (const name of TRANSITION_NAMES) assert.equal(TRANSITIONS[name].to, TABLE[name].to, name);
});

for (const transition of TRANSITION_NAMES) {
  const { from, to } = TABLE[transition];
  const label = from.length === ALL_STATES.length ? 'any state' : from.join(' or ');
  test(`A1: ${transition} is allowed from ${label} only, and leads to ${to}`, () => {
    for (const state of ALL_STATES) {
      const allowed = from.includes(state);
      assert.equal(canTransition(state, transition), allowed, `${transition} from ${state}`);
      if (allowed) assert.equal(applyTransition(state, transition).state, to, `${transition} from ${state}`);
      else assertIllegal(state, transition);
    }
  });
}

test('A1: begin_updating from OK is refused, naming the transition and the state [17]', () => {
  assertIllegal('OK', 'begin_updating');
  assert.throws(() => applyTransition('OK', 'begin_updating'), /begin_updating.*OK/);
});

test('A1: recover from OK is refused [17]', () => {
  assertIllegal('OK', 'recover');
});

test('A1: set_ok and set_erred succeed from every state [17]', () => {
  for (const state of ALL_STATES) {
    assert.equal(applyTransition(state, 'set_ok').state, 'OK', state);
    assert.equal(applyTransition(state, 'set_erred').state, 'ERRED', state);
  }
});

test('A1: nothing leads from CREATING/UPDATING/DELETING back to a *_SCHEDULED state (Waldur §3.2)', () => {
  for (const state of ['CREATING', 'UPDATING', 'DELETING'] as const) {
    for (const transition of TRANSITION_NAMES) {
      if (!canTransition(state, transition)) continue;
      assert.ok(['OK', 'ERRED'].includes(TRANSITIONS[transition].to), `${transition} from ${state}`);
    }
  }
});

test('A1: isTransitionName and isResourceState accept exactly the table, not inherited names or other cases', () => {
  for (const name of TRANSITION_NAMES) assert.equal(isTransitionName(name), true, name);
  for (const name of ['', 'toString', 'constructor', '__proto__', 'hasOwnProperty', 'SET_OK', 'cancel', 'set_ok ']) {
    assert.equal(isTransitionName(name), false, JSON.stringify(name));
  }
  for (const state of ALL_STATES) assert.equal(isResourceState(state), true, state);
  for (const state of ['', 'ok', 'Erred', 'DELETED', 'toString']) assert.equal(isResourceState(state), false, state);
});

test('A2: starting an operation clears error_message and error_traceback, from every legal source', () => {
  for (const transition of OPERATION_STARTS) {
    for (const state of TABLE[transition].from) {
      assert.deepEqual(
        applyTransition(state, transition),
        { state: TABLE[transition].to, errorMessage: '', errorTraceback: '' },
        `${transition} from ${state}`,
      );
    }
  }
});

test('A2: leaving ERRED (set_ok, recover, schedule_*) clears both error fields [16]', () => {
  assert.deepEqual(applyTransition('ERRED', 'set_ok'), { state: 'OK', errorMessage: '', errorTraceback: '' });
  assert.deepEqual(applyTransition('ERRED', 'recover'), { state: 'OK', errorMessage: '', errorTraceback: '' });
  assert.deepEqual(applyTransition('ERRED', 'schedule_updating'), {
    state: 'UPDATE_SCHEDULED',
    errorMessage: '',
    errorTraceback: '',
  });
  assert.deepEqual(applyTransition('ERRED', 'schedule_deleting'), {
    state: 'DELETION_SCHEDULED',
    errorMessage: '',
    errorTraceback: '',
  });
});

test('A2: ERRED → ERRED via set_erred does not count as leaving ERRED: the error fields are left alone', () => {
  assert.deepEqual(applyTransition('ERRED', 'set_erred'), { state: 'ERRED' });
});

test('A2: set_ok from CREATING does not touch the error fields', () => {
  assert.deepEqual(applyTransition('CREATING', 'set_ok'), { state: 'OK' });
});

test('A2: set_ok and set_erred from any state other than ERRED leave the error fields as they are', () => {
  for (const state of ALL_STATES.filter((s) => s !== 'ERRED')) {
    assert.deepEqual(applyTransition(state, 'set_ok'), { state: 'OK' }, `set_ok from ${state}`);
    assert.deepEqual(applyTransition(state, 'set_erred'), { state: 'ERRED' }, `set_erred from ${state}`);
  }
});
