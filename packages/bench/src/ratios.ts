import type { BenchConfig } from './config.ts';
import type { Results } from './results.ts';
import type { RatioTarget } from './stats.ts';

/** The targets, as ratios of the medians of this run. Figures that were not run are left out. */
export function benchRatios(results: Results, config: BenchConfig): RatioTarget[] {
  const m = (name: string): number => results.median(name);
  const task = config.taskPath.latencyRate;
  const exec = config.executorPath.latencyRate;
  const candidates: RatioTarget[] = [
    {
      name: 'task_path.throughput.jetcel_vs_bullmq',
      value: m('task_path.jetcel.throughput') / m('task_path.bullmq.throughput'),
      op: '>=',
      target: 1.2,
    },
    {
      name: 'task_path.throughput.jetcel_vs_raw_jetstream',
      value: m('task_path.jetcel.throughput') / m('task_path.raw_jetstream.throughput'),
      op: '>=',
      target: 0.7,
    },
    {
      name: `task_path.p50_at_${task}.jetcel_vs_bullmq`,
      value: m(`task_path.jetcel.p50_at_${task}`) / m(`task_path.bullmq.p50_at_${task}`),
      op: '<=',
      target: 1,
    },
    {
      name: 'executor_path.throughput.jetcel_vs_bullmq',
      value: m('executor_path.jetcel.throughput') / m('executor_path.bullmq.throughput'),
      op: '>=',
      target: 0.5,
    },
    {
      name: `executor_path.p50_at_${exec}.jetcel_vs_raw_chain`,
      value: m(`executor_path.jetcel.p50_at_${exec}`) / m(`executor_path.raw_chain.p50_at_${exec}`),
      op: '<=',
      target: 1.3,
    },
    { name: 'throttled.jetcel.efficiency', value: m('throttled.jetcel.efficiency'), op: '>=', target: 0.95 },
    {
      name: 'throttled.jetcel.peak_vs_limit',
      value: m('throttled.jetcel.peak_concurrency') / config.throttled.limit,
      op: '<=',
      target: 1,
    },
    {
      name: 'resources.jetcel.peak_rss_vs_150MiB',
      value: m('resources.jetcel.worker_peak_rss') / 150,
      op: '<=',
      target: 1,
    },
    { name: 'resources.jetcel.rss_growth', value: m('resources.jetcel.rss_growth'), op: '<=', target: 1.1 },
  ];
  return candidates.filter((ratio) => Number.isFinite(ratio.value));
}
