import { test } from 'node:test';
import assert from 'node:assert/strict';
import { figureLine, markdownTables, peakConcurrency, percentile, ratioLine, summarize } from '../src/stats.ts';

test('summarize gives the median, min and max of the rounds', () => {
  assert.deepEqual(summarize([3, 1, 2]), { median: 2, min: 1, max: 3 });
  assert.deepEqual(summarize([4, 1, 3, 2]), { median: 2.5, min: 1, max: 4 });
  assert.ok(Number.isNaN(summarize([]).median));
});

test('percentile is nearest rank', () => {
  const values = Array.from({ length: 100 }, (_, i) => i + 1);
  assert.equal(percentile(values, 50), 50);
  assert.equal(percentile(values, 99), 99);
  assert.equal(percentile([7], 99), 7);
});

test('figure lines have the documented format', () => {
  assert.equal(
    figureLine('task_path.jetcel.throughput', 'tasks/s', { median: 1234.4, min: 1100.2, max: 1300.9 }),
    'figure=task_path.jetcel.throughput value=1234 unit=tasks/s min=1100 max=1301',
  );
  assert.match(
    figureLine('x', 'ms', { median: 1.5, min: 0.25, max: 12.34 }),
    /^figure=x value=1\.50 unit=ms min=0\.250 max=12\.3$/,
  );
});

test('ratio lines say whether the target holds', () => {
  assert.equal(ratioLine({ name: 'a', value: 1.3, op: '>=', target: 1.2 }), 'ratio=a value=1.30 target=>=1.20 ok');
  assert.equal(ratioLine({ name: 'b', value: 1.5, op: '<=', target: 1.3 }), 'ratio=b value=1.50 target=<=1.30 MISS');
});

test('the Markdown table lists figures and ratios', () => {
  const md = markdownTables(
    [{ name: 'f', unit: 'ms', summary: { median: 2, min: 1, max: 3 } }],
    [{ name: 'r', value: 0.5, op: '>=', target: 0.7 }],
  );
  assert.match(md, /\| f \| 2\.00 \| 1\.00 \| 3\.00 \| ms \|/);
  assert.match(md, /\| r \| 0\.500 \| >= 0\.700 \| no \|/);
});

test('peak concurrency counts overlapping intervals only', () => {
  assert.equal(
    peakConcurrency([
      [0, 10],
      [5, 15],
      [10, 20],
    ]),
    2,
  );
  assert.equal(peakConcurrency([]), 0);
});
