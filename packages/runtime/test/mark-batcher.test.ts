import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { MarkBatcher } from '../src/outbox/mark-batcher.ts';

function recording(): { marks: string[][]; mark: (ids: string[]) => Promise<void> } {
  const marks: string[][] = [];
  return { marks, mark: async (ids) => void marks.push(ids) };
}

test('ids published within the linger go out in one mark, after it', async () => {
  const { marks, mark } = recording();
  const batcher = new MarkBatcher(mark, 40);
  batcher.add('a');
  batcher.add('b');
  await sleep(5);
  batcher.add('c');
  assert.deepEqual(marks, [], 'nothing is marked before the linger ends');
  await sleep(80);
  assert.deepEqual(marks, [['a', 'b', 'c']]);
});

test('idle() marks what is pending at once instead of lingering', async () => {
  const { marks, mark } = recording();
  const batcher = new MarkBatcher(mark, 60_000);
  batcher.add('a');
  const started = Date.now();
  await batcher.idle();
  assert.deepEqual(marks, [['a']]);
  assert.ok(Date.now() - started < 1000, 'idle did not wait for the linger');
  batcher.add('b'); // a later id lingers again: idle's flush does not stick
  await sleep(20);
  assert.deepEqual(marks, [['a']]);
  await batcher.idle();
  assert.deepEqual(marks, [['a'], ['b']]);
});

test('a full batch does not linger, and a failed mark does not stop the next', async () => {
  const marks: number[] = [];
  let fail = true;
  const batcher = new MarkBatcher(async (ids) => {
    marks.push(ids.length);
    if (fail) {
      fail = false;
      throw new Error('database gone');
    }
  }, 60_000);
  for (let i = 0; i < 501; i++) batcher.add(`id-${i}`);
  await sleep(20);
  assert.deepEqual(marks, [500], 'the first 500 went out without waiting');
  await batcher.idle();
  assert.deepEqual(marks, [500, 1]);
});

test('without a linger every mark goes out at once', async () => {
  const { marks, mark } = recording();
  const batcher = new MarkBatcher(mark);
  batcher.add('a');
  await sleep(5);
  assert.deepEqual(marks, [['a']]);
});
