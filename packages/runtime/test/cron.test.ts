import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cronMatches, cronNext, cronPrevious, CronSyntaxError, parseCron } from '../src/beat/cron.ts';

const at = (iso: string): Date => new Date(iso);
const iso = (date: Date): string => date.toISOString();

test('fields: *, numbers, ranges, lists and steps', () => {
  const cron = parseCron('*/15 9-17 1,15 */3 1-5');
  assert.deepEqual([...cron.minutes], [0, 15, 30, 45]);
  assert.deepEqual([...cron.hours], [9, 10, 11, 12, 13, 14, 15, 16, 17]);
  assert.deepEqual([...cron.daysOfMonth], [1, 15]);
  assert.deepEqual([...cron.months], [1, 4, 7, 10]);
  assert.deepEqual([...cron.daysOfWeek], [1, 2, 3, 4, 5]);
  assert.deepEqual([...parseCron('10-50/20 0 * * *').minutes], [10, 30, 50]);
  assert.deepEqual([...parseCron('5/20 0 * * *').minutes], [5, 25, 45], 'a/n runs from a to the end');
  assert.deepEqual([...parseCron('0 0 * * 7').daysOfWeek], [0], '7 is Sunday too');
  assert.deepEqual([...parseCron('1,2,5-6 0 * * *').minutes], [1, 2, 5, 6]);
});

test('invalid expressions are refused with the reason', () => {
  for (const bad of [
    '* * * *',
    '* * * * * *',
    '60 * * * *',
    '* 24 * * *',
    '* * 0 * *',
    '* * * 13 *',
    '* * * * 8',
    '5-1 * * * *',
    '*/0 * * * *',
    'a * * * *',
    '1-2-3 * * * *',
    '*/5/2 * * * *',
    ', * * * *',
    '0 0 30 2 *',
    '0 0 * JAN *',
    '0 0 * * MON',
    '0 0 L * *',
    '0 0 15W * *',
    '0 0 * * 1#2',
    '0 0 ? * *',
    '@daily',
  ]) {
    assert.throws(() => parseCron(bad), CronSyntaxError, bad);
  }
});

test('matching is in UTC', () => {
  const cron = parseCron('30 2 * * *');
  assert.ok(cronMatches(cron, at('2026-03-01T02:30:00Z')));
  assert.ok(cronMatches(cron, at('2026-03-01T02:30:59.999Z')), 'the whole minute matches');
  assert.ok(!cronMatches(cron, at('2026-03-01T02:31:00Z')));
  assert.ok(cronMatches(cron, at('2026-03-01T03:30:00+01:00')), '03:30+01:00 is 02:30 UTC');
});

test('day of month and day of week: either one when both are restricted (Vixie cron)', () => {
  const both = parseCron('0 0 13 * 5'); // the 13th, and every Friday
  assert.ok(cronMatches(both, at('2026-02-13T00:00:00Z')), 'Friday the 13th');
  assert.ok(cronMatches(both, at('2026-03-13T00:00:00Z')), 'a 13th that is not a Friday');
  assert.ok(cronMatches(both, at('2026-03-06T00:00:00Z')), 'a Friday that is not the 13th');
  assert.ok(!cronMatches(both, at('2026-03-07T00:00:00Z')));
  const dowOnly = parseCron('0 0 * * 1'); // Mondays
  assert.ok(cronMatches(dowOnly, at('2026-03-02T00:00:00Z')));
  assert.ok(!cronMatches(dowOnly, at('2026-03-03T00:00:00Z')));
});

test('previous: the latest matching minute at or before the instant', () => {
  const hourly = parseCron('0 * * * *');
  assert.equal(iso(cronPrevious(hourly, at('2026-03-01T10:59:59Z'))), '2026-03-01T10:00:00.000Z');
  assert.equal(iso(cronPrevious(hourly, at('2026-03-01T10:00:00Z'))), '2026-03-01T10:00:00.000Z', 'inclusive');
  const tenMinutes = parseCron('*/10 * * * *');
  assert.equal(iso(cronPrevious(tenMinutes, at('2026-03-01T00:05:00Z'))), '2026-03-01T00:00:00.000Z');
  assert.equal(iso(cronPrevious(tenMinutes, at('2026-03-01T00:00:00Z'))), '2026-03-01T00:00:00.000Z');
  assert.equal(
    iso(cronPrevious(parseCron('45 23 31 12 *'), at('2026-06-01T00:00:00Z'))),
    '2025-12-31T23:45:00.000Z',
    'across a year',
  );
  assert.equal(
    iso(cronPrevious(parseCron('0 12 29 2 *'), at('2026-06-01T00:00:00Z'))),
    '2024-02-29T12:00:00.000Z',
    'the last leap day',
  );
  assert.equal(
    iso(cronPrevious(parseCron('0 0 * * 0'), at('2026-03-04T12:00:00Z'))),
    '2026-03-01T00:00:00.000Z',
    'last Sunday',
  );
});

test('next: the first matching minute strictly after the instant', () => {
  const hourly = parseCron('0 * * * *');
  assert.equal(iso(cronNext(hourly, at('2026-03-01T10:00:00Z'))), '2026-03-01T11:00:00.000Z');
  assert.equal(iso(cronNext(hourly, at('2026-03-01T23:30:00Z'))), '2026-03-02T00:00:00.000Z');
  assert.equal(iso(cronNext(parseCron('0 0 1 * *'), at('2026-12-15T00:00:00Z'))), '2027-01-01T00:00:00.000Z');
  assert.equal(iso(cronNext(parseCron('0 12 29 2 *'), at('2026-01-01T00:00:00Z'))), '2028-02-29T12:00:00.000Z');
  assert.equal(iso(cronNext(parseCron('30 9 * * 1-5'), at('2026-03-06T10:00:00Z'))), '2026-03-09T09:30:00.000Z');
  // both day fields restricted: the 1st (a Sunday) counts although it is not a Monday
  assert.equal(iso(cronNext(parseCron('0 0 1-7 * 1'), at('2026-02-23T21:40:00Z'))), '2026-03-01T00:00:00.000Z');
  assert.equal(iso(cronNext(parseCron('*/15 * * * *'), at('2026-03-01T10:14:59.999Z'))), '2026-03-01T10:15:00.000Z');
});

test('previous and next agree: walking forward from a tick lands on matches only', () => {
  const cron = parseCron('7,37 */5 * * 2,4');
  let tick = cronPrevious(cron, at('2026-01-01T00:00:00Z'));
  for (let step = 0; step < 50; step++) {
    assert.ok(cronMatches(cron, tick));
    const next = cronNext(cron, tick);
    assert.equal(cronPrevious(cron, new Date(next.getTime() - 1)).getTime(), tick.getTime(), 'nothing in between');
    tick = next;
  }
});
