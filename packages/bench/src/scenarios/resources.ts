import { nowMs, windowed } from '../clock.ts';
import type { BenchConfig } from '../config.ts';
import type { BenchEnv } from '../env.ts';
import type { BenchChild } from '../ipc.ts';
import type { Results } from '../results.ts';
import { handledBy } from '../wait.ts';
import { BENCH_TASKS } from '../jetcel/domain.ts';

/**
 * Scenario 4: the jetcel worker of scenario 1 (same process). Its peak RSS (VmHWM) over
 * scenario 1, then its RSS (VmRSS) after `first` and after `total` more standalone tasks, and its
 * committed V8 heap at the end.
 */
export async function resourcesRun(
  env: BenchEnv,
  worker: BenchChild,
  config: BenchConfig,
  results: Results,
): Promise<void> {
  results.add('resources.jetcel.worker_peak_rss_task_path', 'MiB', worker.memory().peakMiB);
  const { first, total } = config.resources;
  const feed = async (n: number): Promise<void> => {
    await worker.call('drain');
    await windowed(n, config.taskPath.publishWindow, () => env.standalone.publish(BENCH_TASKS.noop, { t: nowMs() }));
    await handledBy([worker], n, config.phaseTimeoutMs);
    await worker.call('drain');
  };
  await feed(first);
  const atFirst = worker.memory().rssMiB;
  results.add(`resources.jetcel.worker_rss_after_${first}`, 'MiB', atFirst);
  await feed(total - first);
  const atTotal = worker.memory().rssMiB;
  results.add(`resources.jetcel.worker_rss_after_${total}`, 'MiB', atTotal);
  // How much of it is the V8 heap (committed); the rest is the node binary, code and malloc.
  const heap = await worker.call<Record<string, number>>('memory');
  results.add(`resources.jetcel.worker_v8_heap_after_${total}`, 'MiB', heap.heapTotal ?? NaN);
  results.add('resources.jetcel.worker_peak_rss', 'MiB', worker.memory().peakMiB);
  results.add('resources.jetcel.rss_growth', `ratio ${total}/${first}`, atTotal / atFirst);
}
