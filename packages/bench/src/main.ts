// `pnpm bench [--quick]`: every scenario for jetcel and its comparisons, interleaved, in rounds.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchConfig } from './config.ts';
import { startBenchEnv } from './env.ts';
import { Results } from './results.ts';
import { benchRatios } from './ratios.ts';
import { figureLine, markdownTables, ratioLine } from './stats.ts';
import { startTaskSystems, taskPathRound } from './scenarios/task-path.ts';
import { executorPathRound, executorSystems } from './scenarios/executor-path.ts';
import { throttledRound, throttledSystems } from './scenarios/throttled.ts';
import { resourcesRun } from './scenarios/resources.ts';
import { fairnessRound, startFairness } from './scenarios/fairness.ts';
import { measure } from './measure.ts';

const quick = process.argv.includes('--quick');
const only = process.env.BENCH_ONLY?.split(',');
const config = benchConfig(quick);
const results = new Results();
const log = (line: string): void => void process.stderr.write(`${line}\n`);
const wanted = (scenario: string): boolean => !only || only.includes(scenario);
const started = Date.now();
const loadBefore = loadavg()[0] ?? 0;

const env = await startBenchEnv(process.env.BENCH_CPU_PROF ? { cpuProfDir: resolve(process.env.BENCH_CPU_PROF) } : {});
try {
  if (wanted('task_path') || wanted('resources')) {
    log(`# task path (N=${config.taskPath.n}, ${config.taskPath.latencyCount} at ${config.taskPath.latencyRate}/s)`);
    const task = await startTaskSystems(env, config);
    results.add('resources.jetcel.worker_rss_idle', 'MiB', task.idleRssMiB);
    for (let round = 1; round <= config.rounds; round++) {
      log(`round ${round}`);
      await taskPathRound(task.systems, config, results, env.nats.pid);
    }
    await task.stop();
    const jetcelWorker = task.systems.find((system) => system.name === 'jetcel')?.worker;
    if (jetcelWorker && wanted('resources')) {
      log(`# resources (${config.resources.first} then ${config.resources.total} tasks)`);
      await measure('resources', () => resourcesRun(env, jetcelWorker, config, results));
    }
    await jetcelWorker?.stop();
  }
  if (wanted('executor_path')) {
    log(
      `# executor path (N=${config.executorPath.n} after ${config.executorPath.warmUp} unmeasured, ${config.executorPath.latencyCount} at ${config.executorPath.latencyRate}/s)`,
    );
    const executor = await executorSystems(env, config);
    for (let round = 1; round <= config.rounds; round++) {
      log(`round ${round}`);
      await executorPathRound(executor.systems, config, results, env.nats.pid);
    }
    await executor.stop();
  }
  if (wanted('throttled')) {
    log(
      `# throttled scope (N=${config.throttled.n} after ${config.throttled.warmUp} unmeasured, limit ${config.throttled.limit}, ${config.throttled.taskMs} ms tasks)`,
    );
    const throttled = await throttledSystems(env, config);
    for (let round = 1; round <= config.rounds; round++) {
      log(`round ${round}`);
      await throttledRound(throttled.systems, config, results, env.nats.pid);
    }
    await throttled.stop();
  }
  if (wanted('fairness')) {
    const { chains, streamCount, streamRate } = config.fairness;
    log(`# fairness (${streamCount} one-step at ${streamRate}/s, idle and behind ${chains} twenty-step chains)`);
    const fairness = await startFairness(env, config);
    for (let round = 1; round <= config.rounds; round++) {
      log(`round ${round}`);
      await measure('fairness.jetcel', () => fairnessRound(env, config, results));
    }
    await fairness.stop();
  }
} finally {
  await env.close();
}

const rows = results.rows();
const ratios = benchRatios(results, config);
for (const row of rows) console.log(figureLine(row.name, row.unit, row.summary));
for (const ratio of ratios) console.log(ratioLine(ratio));
for (const line of results.cpu.lines()) console.log(line);
const cpu = cpus();
const machine = `${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}; load average ${loadBefore.toFixed(2)} before, ${(loadavg()[0] ?? 0).toFixed(2)} after`;
const heading = `# jetcel bench — ${quick ? 'quick' : 'full'} run, ${new Date().toISOString()}\n\n${machine}; ${config.rounds} rounds, ${Math.round((Date.now() - started) / 1000)} s.\n\n`;
const out = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'results', quick ? 'latest-quick.md' : 'latest.md');
mkdirSync(dirname(out), { recursive: true });
const cpuTable = results.cpu.markdown();
writeFileSync(out, heading + markdownTables(rows, ratios) + (cpuTable ? `\n${cpuTable}` : ''));
log(`wrote ${out}`);
