import type { BenchConfig } from './config.ts';
import type { RatioTarget } from './stats.ts';

/** The medians a ratio reads (`Results` in a run, a plain map in the tests). */
export interface Medians {
  median(name: string): number;
}

/**
 * The targets, as ratios of the medians of one run. Figures that were not run are left out. The
 * raw chain's figures stay in the tables as the floor of a durable step, without a target.
 */
export function benchRatios(
  results: Medians,
  config: Pick<BenchConfig, 'taskPath' | 'executorPath' | 'throttled'>,
): RatioTarget[] {
  const m = (name: string): number => results.median(name);
  const task = config.taskPath.latencyRate;
  const exec = config.executorPath.latencyRate;
  const peakVsLimit = m('throttled.jetcel.peak_concurrency') / config.throttled.limit;
  const candidates: RatioTarget[] = [
    {
      name: 'task_path.throughput.jetcel_vs_bullmq',
      value: m('task_path.jetcel.throughput') / m('task_path.bullmq.throughput'),
      op: '>=',
      target: 1,
    },
    {
      name: `task_path.p50_at_${task}.jetcel_vs_bullmq`,
      value: m(`task_path.jetcel.p50_at_${task}`) / m(`task_path.bullmq.p50_at_${task}`),
      op: '<=',
      target: 1,
    },
    {
      name: 'executor_path.throughput.jetcel_vs_dbos',
      value: m('executor_path.jetcel.throughput') / m('executor_path.dbos.throughput'),
      op: '>=',
      target: 2,
    },
    {
      name: 'executor_path.throughput.jetcel_vs_bullmq',
      value: m('executor_path.jetcel.throughput') / m('executor_path.bullmq.throughput'),
      op: '>=',
      target: 0.3,
    },
    {
      name: `executor_path.p50_at_${exec}.jetcel_vs_dbos`,
      value: m(`executor_path.jetcel.p50_at_${exec}`) / m(`executor_path.dbos.p50_at_${exec}`),
      op: '<=',
      target: 1,
    },
    {
      name: `executor_path.jetcel.p99_vs_p50_at_${exec}`,
      value: m(`executor_path.jetcel.p99_at_${exec}`) / m(`executor_path.jetcel.p50_at_${exec}`),
      op: '<=',
      target: 3,
    },
    { name: 'throttled.jetcel.efficiency', value: m('throttled.jetcel.efficiency'), op: '>=', target: 0.9 },
    // Exactly the limit: never above it, and reached.
    { name: 'throttled.jetcel.peak_vs_limit.never_above', value: peakVsLimit, op: '<=', target: 1 },
    { name: 'throttled.jetcel.peak_vs_limit.reached', value: peakVsLimit, op: '>=', target: 1 },
    {
      name: 'resources.jetcel.peak_rss_vs_150MiB',
      value: m('resources.jetcel.worker_peak_rss') / 150,
      op: '<=',
      target: 1,
    },
    { name: 'resources.jetcel.rss_growth', value: m('resources.jetcel.rss_growth'), op: '<=', target: 1.1 },
    {
      name: 'fairness.jetcel.p99_loaded_vs_idle',
      value: m('fairness.jetcel.p99_loaded') / m('fairness.jetcel.p99_idle'),
      op: '<=',
      target: 5,
    },
  ];
  return candidates.filter((ratio) => Number.isFinite(ratio.value));
}
