import { atRate, nowMs, windowed } from '../clock.ts';
import type { BenchConfig } from '../config.ts';
import type { BenchEnv } from '../env.ts';
import type { BenchChild } from '../ipc.ts';
import type { Results } from '../results.ts';
import { percentile } from '../stats.ts';
import { LONG_CHAIN_STEPS, oneStepExecutor, twentyStepExecutor } from '../jetcel/domain.ts';
import { executionsFinished, finishedSince, latenciesSince, submitExecution } from '../jetcel/submit.ts';

/** One-step executions run before the first round, not measured. */
const WARM_UP = 10;

/**
 * Scenario 5 (jetcel only): whether long chains starve short executions on the same queue. A
 * stream of one-step executions at a fixed rate, first on an idle queue, then right after `chains`
 * twenty-step executions were requested on the same queue and worker. Latency as in scenario 2:
 * from the scheduling transaction to the final commit. The figure is the stream's p99 under load
 * over its p99 when idle; `chains_running_at_stream_end` says the load was still there when the
 * stream's last execution finished.
 */
export async function startFairness(
  env: BenchEnv,
  config: BenchConfig,
): Promise<{ worker: BenchChild; stop(): Promise<void> }> {
  const worker = await env.spawn('jetcel/worker.ts', ['--queue', 'regular']);
  // Warm up (connections, prepared plans, the relay's first rounds): a cold start would inflate the idle p99.
  const since = nowMs();
  await windowed(WARM_UP, WARM_UP, () => submitExecution(env, oneStepExecutor, {}));
  await executionsFinished(env, oneStepExecutor.name, WARM_UP, since, config.phaseTimeoutMs);
  return { worker, stop: () => worker.stop() };
}

export async function fairnessRound(env: BenchEnv, config: BenchConfig, results: Results): Promise<void> {
  const { chains, streamRate, streamCount } = config.fairness;
  const timeout = config.phaseTimeoutMs;
  const stream = async (): Promise<number[]> => {
    const start = nowMs();
    await atRate(streamCount, streamRate, () => submitExecution(env, oneStepExecutor, {}));
    await executionsFinished(env, oneStepExecutor.name, streamCount, start, timeout);
    return latenciesSince(env, oneStepExecutor.name, start);
  };
  const idle = await stream();
  results.add('fairness.jetcel.p50_idle', 'ms', percentile(idle, 50));
  results.add('fairness.jetcel.p99_idle', 'ms', percentile(idle, 99));

  const loadStart = nowMs();
  await windowed(chains, config.executorPath.submitWindow, () => submitExecution(env, twentyStepExecutor, {}));
  const loaded = await stream();
  const chainsDone = (await finishedSince(env, twentyStepExecutor.name, loadStart)).n;
  results.add('fairness.jetcel.p50_loaded', 'ms', percentile(loaded, 50));
  results.add('fairness.jetcel.p99_loaded', 'ms', percentile(loaded, 99));
  results.add('fairness.jetcel.chains_running_at_stream_end', 'chains', chains - chainsDone);
  // The next round starts on an idle queue again. The chains' own pace: their steps over the time they took.
  const chainsEnd = await executionsFinished(env, twentyStepExecutor.name, chains, loadStart, timeout);
  results.add(
    'fairness.jetcel.chain_steps_per_s',
    'steps/s',
    (chains * LONG_CHAIN_STEPS) / ((chainsEnd - loadStart) / 1000),
  );
}
