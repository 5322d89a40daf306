import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { EVENT_NAMES, EVENT_VERSION, eventSubject, resourceEventSchema } from '../src/index.ts';

const event = () => ({
  v: EVENT_VERSION,
  eventId: randomUUID(),
  resourceType: 'instance',
  resourceId: 'r1',
  resourceVersion: 3,
  from: 'CREATING',
  to: 'OK',
  executionId: randomUUID(),
  actor: 'alice',
  at: '2026-01-01T00:00:00.000Z',
});

test('C10: event names: state_changed, and deleted for the tombstone', () => {
  assert.deepEqual(EVENT_NAMES, { stateChanged: 'state_changed', deleted: 'deleted' });
  assert.equal(eventSubject('instance', 'r1', EVENT_NAMES.deleted), 'events.instance.r1.deleted');
  assert.equal(EVENT_VERSION, 1);
});

test('C10: a state-change event and a tombstone parse unchanged', () => {
  const changed = event();
  assert.deepEqual(resourceEventSchema.parse(changed), changed);
  const failed = { ...event(), to: 'ERRED', error: 'Flavor is not available' };
  assert.deepEqual(resourceEventSchema.parse(failed), failed);
  const tombstone = { ...event(), from: 'DELETING', to: null, executionId: null, actor: null };
  assert.deepEqual(resourceEventSchema.parse(tombstone), tombstone);
  const created = { ...event(), from: null, to: 'CREATION_SCHEDULED' };
  assert.deepEqual(resourceEventSchema.parse(created), created);
});

test('C10: an event needs a uuid eventId, a positive integer version and every field', () => {
  assert.equal(resourceEventSchema.safeParse({ ...event(), eventId: 'e1' }).success, false);
  assert.equal(resourceEventSchema.safeParse({ ...event(), v: 0 }).success, false);
  assert.equal(resourceEventSchema.safeParse({ ...event(), resourceVersion: 1.5 }).success, false);
  const { actor: _actor, ...withoutActor } = event();
  assert.equal(resourceEventSchema.safeParse(withoutActor).success, false);
});
