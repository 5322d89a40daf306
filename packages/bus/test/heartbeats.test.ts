import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Heartbeats } from '../src/heartbeats.ts';

/** Intervals started meanwhile (the heartbeat timers are unref'd, so not active resources). */
function countingIntervals(): { started: () => number; restore: () => void } {
  const original = globalThis.setInterval;
  let started = 0;
  globalThis.setInterval = (...args: Parameters<typeof setInterval>) => {
    started += 1;
    return original(...args);
  };
  return { started: () => started, restore: () => void (globalThis.setInterval = original) };
}
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('one timer runs every beat at its period, and stops with the last beat', async () => {
  const heartbeats = new Heartbeats();
  const intervals = countingIntervals();
  const counts = Array.from({ length: 50 }, () => 0);
  const stops = counts.map((_, index) => heartbeats.add(100, () => void (counts[index] = (counts[index] ?? 0) + 1)));
  intervals.restore();
  assert.equal(intervals.started(), 1, 'one timer for fifty beats');
  await sleep(380);
  for (const count of counts) assert.ok(count >= 2 && count <= 4, `ran ${count} times in 380 ms at a 100 ms period`);
  for (const stop of stops.slice(1)) stop();
  const stopped = [...counts];
  await sleep(150);
  assert.deepEqual(counts.slice(1), stopped.slice(1), 'a stopped beat runs no more');
  assert.ok((counts[0] ?? 0) > (stopped[0] ?? 0), 'the beat left keeps beating');
  stops[0]?.();
  assert.equal(heartbeats.size, 0);
});

test('a beat that throws does not stop the others', async () => {
  const heartbeats = new Heartbeats();
  let ran = 0;
  const stopBad = heartbeats.add(40, () => {
    throw new Error('bad beat');
  });
  const stopGood = heartbeats.add(40, () => void (ran += 1));
  await sleep(150);
  stopBad();
  stopGood();
  assert.ok(ran >= 2);
});
