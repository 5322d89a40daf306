import { test } from 'node:test';
import assert from 'node:assert/strict';
import { benchConfig } from '../src/config.ts';
import { benchRatios } from '../src/ratios.ts';
import { ratioHolds, type RatioTarget } from '../src/stats.ts';

const config = benchConfig(true);
const ratiosOf = (figures: Record<string, number>): Map<string, RatioTarget> =>
  new Map(benchRatios({ median: (name) => figures[name] ?? Number.NaN }, config).map((ratio) => [ratio.name, ratio]));

/** The ratio of that name; a missing one fails the test. */
const get = (ratios: Map<string, RatioTarget>, name: string): RatioTarget => {
  const ratio = ratios.get(name);
  assert.ok(ratio, `no ratio ${name}`);
  return ratio;
};

/** A run where every target holds. */
const passing: Record<string, number> = {
  'task_path.jetcel.throughput': 12_000,
  'task_path.bullmq.throughput': 11_000,
  'task_path.jetcel.p50_at_200': 1.2,
  'task_path.bullmq.p50_at_200': 1.5,
  'executor_path.jetcel.throughput': 400,
  'executor_path.dbos.throughput': 150,
  'executor_path.bullmq.throughput': 900,
  'executor_path.raw_chain.throughput': 120,
  'executor_path.jetcel.p50_at_50': 10,
  'executor_path.jetcel.p99_at_50': 25,
  'executor_path.dbos.p50_at_50': 12,
  'executor_path.raw_chain.p50_at_50': 8,
  'throttled.jetcel.efficiency': 0.93,
  'throttled.jetcel.peak_concurrency': 5,
  'resources.jetcel.worker_peak_rss': 120,
  'resources.jetcel.rss_growth': 1.05,
  'fairness.jetcel.p99_idle': 20,
  'fairness.jetcel.p99_loaded': 60,
};

test('every target holds on a run that meets them, and the raw chain has none', () => {
  const ratios = ratiosOf(passing);
  assert.deepEqual(
    [...ratios.values()].filter((ratio) => !ratioHolds(ratio)).map((ratio) => ratio.name),
    [],
  );
  assert.equal(ratios.size, 12);
  assert.ok(![...ratios.keys()].some((name) => name.includes('raw')));
});

test('executor throughput is held against DBOS (2×) and BullMQ flows (0.3×)', () => {
  const ratios = ratiosOf({ ...passing, 'executor_path.jetcel.throughput': 290 });
  assert.equal(ratios.get('executor_path.throughput.jetcel_vs_dbos')?.value, 290 / 150);
  assert.equal(ratioHolds(get(ratios, 'executor_path.throughput.jetcel_vs_dbos')), false);
  assert.equal(ratioHolds(get(ratios, 'executor_path.throughput.jetcel_vs_bullmq')), true);
  const slow = ratiosOf({
    ...passing,
    'executor_path.jetcel.throughput': 260,
    'executor_path.bullmq.throughput': 1000,
  });
  assert.equal(ratioHolds(get(slow, 'executor_path.throughput.jetcel_vs_bullmq')), false);
});

test("executor p50 at 50/s is held against DBOS's p50, and its p99 against 3 × its own p50", () => {
  const ratios = ratiosOf({ ...passing, 'executor_path.jetcel.p50_at_50': 13, 'executor_path.jetcel.p99_at_50': 40 });
  assert.equal(ratioHolds(get(ratios, 'executor_path.p50_at_50.jetcel_vs_dbos')), false);
  assert.equal(ratios.get('executor_path.jetcel.p99_vs_p50_at_50')?.value, 40 / 13);
  assert.equal(ratioHolds(get(ratios, 'executor_path.jetcel.p99_vs_p50_at_50')), false);
});

test('the throttle peak must be exactly the limit: above it or short of it misses', () => {
  const names = ['throttled.jetcel.peak_vs_limit.never_above', 'throttled.jetcel.peak_vs_limit.reached'];
  const holds = (peak: number): boolean[] => {
    const ratios = ratiosOf({ ...passing, 'throttled.jetcel.peak_concurrency': peak });
    return names.map((name) => ratioHolds(get(ratios, name)));
  };
  assert.deepEqual(holds(5), [true, true]);
  assert.deepEqual(holds(6), [false, true]);
  assert.deepEqual(holds(4), [true, false]);
  const slow = ratiosOf({ ...passing, 'throttled.jetcel.efficiency': 0.89 });
  assert.equal(ratioHolds(get(slow, 'throttled.jetcel.efficiency')), false);
});

test('fairness is the loaded p99 over the idle p99, at most 5', () => {
  const ratio = get(ratiosOf({ ...passing, 'fairness.jetcel.p99_loaded': 101 }), 'fairness.jetcel.p99_loaded_vs_idle');
  assert.equal(ratio.value, 101 / 20);
  assert.equal(ratioHolds(ratio), false);
});

test('a scenario that did not run leaves its ratios out', () => {
  const executorOnly = Object.fromEntries(
    Object.entries(passing).filter(([name]) => name.startsWith('executor_path.')),
  );
  assert.deepEqual(
    [...ratiosOf(executorOnly).keys()],
    [
      'executor_path.throughput.jetcel_vs_dbos',
      'executor_path.throughput.jetcel_vs_bullmq',
      'executor_path.p50_at_50.jetcel_vs_dbos',
      'executor_path.jetcel.p99_vs_p50_at_50',
    ],
  );
});
