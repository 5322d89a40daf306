// `pnpm --filter @jetcel/bench throttle-probe`: where a throttled scope's slots sit idle. Runs the
// throttled scenario for jetcel alone (PROBE_N executions, default 200, in bulk commands of 50,
// limit 5, 20 ms tasks, two workers) with the workers' info lines in files, then prints per
// hand-over the gap between one task's end and the next task's start on the same slot, split at
// the log lines in between, how many tasks each slot ran (a slot idle all run is a lost wake-up),
// and how busy the slots were in each 100 ms of the run (PROBE_TIMELINE=1 also prints the first 90
// log lines, relative to the first request).
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchConfig } from './config.ts';
import { nowMs } from './clock.ts';
import { startBenchEnv } from './env.ts';
import { throttledExecutor } from './jetcel/domain.ts';
import { BULK_SIZE, executionsFinished, submitBulk } from './jetcel/submit.ts';
import type { Drained } from './recorder.ts';
import { peakConcurrency } from './stats.ts';

const n = Number(process.env.PROBE_N ?? 200);
const { limit, taskMs, workers } = benchConfig(false).throttled;
const logs = Array.from({ length: workers }, (_, i) => join(tmpdir(), `throttle-probe-${process.pid}-${i}.log`));

interface Line {
  time: number;
  msg: string;
  executionId?: string;
  key?: string;
  to?: string;
  start?: number;
  end?: number;
  slot?: string;
  token?: string;
  worker: number;
}

const env = await startBenchEnv({});
const children = await Promise.all(
  logs.map((file) =>
    env.spawn('jetcel/worker.ts', ['--queue', 'regular'], {
      THROTTLE_DEFAULT_LIMIT: String(limit),
      LOG_LEVEL: 'info',
      BENCH_LOG_FILE: file,
    }),
  ),
);
let firstBulkMs = 0;
const run = async (count: number) => {
  await Promise.all(children.map((child) => child.call('drain')));
  const start = nowMs();
  // The first bulk command alone, timed: no slot can start before it has committed.
  await submitBulk(env, throttledExecutor, { ms: taskMs }, Math.min(BULK_SIZE, count));
  firstBulkMs = nowMs() - start;
  if (count > BULK_SIZE) await submitBulk(env, throttledExecutor, { ms: taskMs }, count - BULK_SIZE);
  const submitted = nowMs();
  const end = await executionsFinished(env, throttledExecutor.name, count, start, 120_000);
  const drained = await Promise.all(children.map((child) => child.call<Drained>('drain')));
  return { start, submitted, end, intervals: drained.flatMap((d) => d.intervals) };
};
await run(20);
const since = nowMs();
const measured = await run(n);
await new Promise((resolve) => setTimeout(resolve, 300));
const lines: Line[] = logs.flatMap((file, worker) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((text) => {
      const raw = JSON.parse(text) as Record<string, unknown>;
      return { ...(raw as unknown as Line), time: Date.parse(String(raw.time)), worker };
    })
    .filter((line) => line.time >= since),
);
await Promise.all(children.map((child) => child.stop()));
await env.close();

const { start, submitted, end, intervals } = measured;
const efficiency = n / ((end - start) / 1000) / (limit / (taskMs / 1000));
const busy = intervals.reduce((sum, [a, b]) => sum + (b - a), 0);
const firstTask = Math.min(...intervals.map(([a]) => a));
const lastTask = Math.max(...intervals.map(([, b]) => b));
const out = (line: string) => void process.stdout.write(`${line}\n`);
out(`N=${n} limit=${limit} task=${taskMs} ms workers=${workers}`);
out(`efficiency ${efficiency.toFixed(3)}  peak ${peakConcurrency(intervals)}  run ${(end - start).toFixed(0)} ms`);
out(`first bulk command committed +${firstBulkMs.toFixed(0)} ms;`);
out(`submission took ${(submitted - start).toFixed(0)} ms; first task start +${(firstTask - start).toFixed(0)} ms;`);
out(`last task end +${(lastTask - start).toFixed(0)} ms; last finished_at +${(end - start).toFixed(0)} ms`);
out(`slot occupancy between first start and last end: ${(busy / (limit * (lastTask - firstTask))).toFixed(3)}`);

// Per slot: the tasks in order, and what happened between one's end and the next one's start.
const ran = lines.filter((line) => line.msg === 'bench task ran' && line.slot);
const bySlot = new Map<string, Line[]>();
for (const line of ran) bySlot.set(line.slot ?? '', [...(bySlot.get(line.slot ?? '') ?? []), line]);
const gaps: number[] = [];
const remote: number[] = [];
const phases = new Map<string, number[]>();
const note = (phase: string, ms: number) => phases.set(phase, [...(phases.get(phase) ?? []), ms]);
let tokensMonotonic = true;
for (const [, tasks] of bySlot) {
  tasks.sort((a, b) => (a.start ?? 0) - (b.start ?? 0));
  for (let i = 1; i < tasks.length; i++) {
    const prev = tasks[i - 1];
    const next = tasks[i];
    if (!prev || !next) continue;
    if (Number(next.token) <= Number(prev.token)) tokensMonotonic = false;
    const gap = (next.start ?? 0) - (prev.end ?? 0);
    gaps.push(gap);
    if (prev.worker !== next.worker) remote.push(gap);
    const after = (msg: string, exec: string | undefined) =>
      lines.find((line) => line.msg === msg && line.executionId === exec && line.time >= Math.floor(prev.end ?? 0));
    const handed = lines.find(
      (line) =>
        line.msg === 'throttle slot handed over' &&
        line.to === next.executionId &&
        line.time >= Math.floor(prev.end ?? 0),
    );
    const succeeded = after('step succeeded', prev.executionId);
    const started = after('step started', next.executionId);
    if (succeeded) note('task end → its commit logged', succeeded.time - (prev.end ?? 0));
    if (succeeded && handed) note('commit logged → hand-over logged', handed.time - succeeded.time);
    if (handed && started) note('hand-over logged → next started', started.time - handed.time);
    if (started) note('next step started → its task start', (next.start ?? 0) - started.time);
    if (!handed) note('no hand-over (admitted fresh)', gap);
  }
}
const pct = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
};
const summary = (values: number[]) =>
  `n=${values.length} mean ${(values.reduce((a, b) => a + b, 0) / Math.max(1, values.length)).toFixed(1)} p50 ${pct(values, 50).toFixed(1)} p90 ${pct(values, 90).toFixed(1)} max ${Math.max(...values).toFixed(1)}`;
out(`slot gaps (task end → next task start on the slot): ${summary(gaps)}`);
out(`  of which across workers: ${summary(remote)}`);
for (const [phase, values] of phases) out(`  ${phase}: ${summary(values)}`);
out(`fencing tokens rise per slot: ${tokensMonotonic}`);
// A slot that sat idle for the whole run (a lost wake-up) shows as a missing or short row here.
const perSlot = [...bySlot]
  .sort(([a], [b]) => a.localeCompare(b))
  .map(
    ([slot, tasks]) =>
      `${slot.split('.').pop()}: ${tasks.length} from +${((tasks[0]?.start ?? 0) - start).toFixed(0)} ms`,
  );
out(`tasks per slot (${bySlot.size} of ${limit}): ${perSlot.join(', ')}`);
const counts = new Map<string, number>();
for (const line of lines) counts.set(line.msg, (counts.get(line.msg) ?? 0) + 1);
out(`log lines: ${[...counts].map(([msg, c]) => `${msg}=${c}`).join(', ')}`);
for (const file of logs) rmSync(file, { force: true });
// Slot occupancy in windows of 100 ms: where the run lost time (the start, the hand-overs, the tail).
for (let at = 0; at < end - start; at += 100) {
  const [from, to] = [start + at, start + at + 100];
  const busyInWindow = intervals.reduce((sum, [a, b]) => sum + Math.max(0, Math.min(b, to) - Math.max(a, from)), 0);
  out(`slots busy +${at}…${at + 100} ms: ${(busyInWindow / (limit * 100)).toFixed(2)}`);
}
if (process.env.PROBE_TIMELINE === '1')
  for (const line of [...lines].sort((a, b) => a.time - b.time).slice(0, 90))
    out(
      `+${(line.time - start).toFixed(0)} ms worker ${line.worker}: ${line.msg} ${line.executionId?.slice(0, 8) ?? ''}`,
    );
