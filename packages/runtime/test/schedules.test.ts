import { test } from 'node:test';
import assert from 'node:assert/strict';
import { equalityKey } from '../src/background/enqueue.ts';
import { defineSchedule } from '../src/beat/schedules.ts';

test('E3: an interval tick is the scheduled UTC instant aligned to the epoch, the same on every replica', () => {
  const schedule = defineSchedule({ name: 'pull', task: 't', every: 3_600_000 });
  const tick = schedule.latestTick(new Date('2026-03-01T10:59:59.999Z'));
  assert.equal(tick.toISOString(), '2026-03-01T10:00:00.000Z');
  assert.equal(schedule.latestTick(new Date('2026-03-01T10:00:00.000Z')).toISOString(), '2026-03-01T10:00:00.000Z');
  const seconds = defineSchedule({ name: 's', task: 't', every: 1000 });
  assert.equal(seconds.latestTick(new Date(12_345)).getTime(), 12_000);
});

test('E1: cron schedules tick on the cron instants in UTC', () => {
  const schedule = defineSchedule({ name: 'nightly', task: 't', cron: '15 3 * * *', timezone: 'UTC' });
  assert.equal(schedule.latestTick(new Date('2026-03-01T03:14:00Z')).toISOString(), '2026-02-28T03:15:00.000Z');
  assert.equal(schedule.describe, 'cron 15 3 * * * UTC');
});

test('schedules need a stable name and exactly one of every / cron', () => {
  assert.throws(() => defineSchedule({ name: 'bad name', task: 't', every: 1000 }), /Invalid schedule name/);
  assert.throws(() => defineSchedule({ name: 'both', task: 't', every: 1000, cron: '* * * * *' }), /exactly one/);
  assert.throws(() => defineSchedule({ name: 'none', task: 't' }), /exactly one/);
  assert.throws(() => defineSchedule({ name: 'tiny', task: 't', every: 5 }), /at least 100 ms/);
  assert.throws(() => defineSchedule({ name: 'bad-cron', task: 't', cron: '* * *' }), /Invalid cron/);
});

test('E2: equality keys: by name, by name and resource, or none', () => {
  assert.equal(equalityKey({ name: 'list', equality: 'name' }, null), 'list');
  assert.equal(equalityKey({ name: 'pull', equality: 'resource' }, 'instance:1'), 'pull|instance:1');
  assert.equal(equalityKey({ name: 'tick', equality: 'none' }, null), null);
  assert.throws(() => equalityKey({ name: 'pull', equality: 'resource' }, null), /no resource|none/);
});
