// `pnpm --filter @jetcel/bench trace`: what one execution costs PostgreSQL. Runs executions one at a time with the
// database's statement log on and counts, per execution, the statements and transactions each
// process (driver, worker) sent, grouped by their first words. Not a benchmark: no timing.
import { readFileSync, statSync } from 'node:fs';
import { throttledExecutor, fiveStepExecutor } from './jetcel/domain.ts';
import { executionsFinished, submitExecution } from './jetcel/submit.ts';
import { startBenchEnv } from './env.ts';
import { nowMs } from './clock.ts';

const LOG = process.env.PG_LOG ?? '/var/log/postgresql/postgresql-15-main.log';
const runs = Number(process.env.TRACE_RUNS ?? 20);
const throttled = process.env.TRACE_EXECUTOR === 'throttled';
const which = throttled ? throttledExecutor : fiveStepExecutor;
const submitOne = () =>
  throttled ? submitExecution(env, throttledExecutor, { ms: 1 }) : submitExecution(env, fiveStepExecutor, {});

const env = await startBenchEnv({});
const dbName = new URL(env.database.url).pathname.slice(1);
await env.raw.pool.query(`alter database "${dbName}" set log_statement = 'all'`);
await env.raw.pool.query(`alter database "${dbName}" set log_min_duration_statement = -1`);
const worker = await env.spawn('jetcel/worker.ts', ['--queue', 'regular']);
// Warm up: connections, prepared plans, the relay's first rounds.
for (let i = 0; i < 3; i++) {
  const since = nowMs();
  await submitOne();
  await executionsFinished(env, which.name, 1, since, 30_000);
}
await new Promise((resolve) => setTimeout(resolve, 1500));
const offset = statSync(LOG).size;
for (let i = 0; i < runs; i++) {
  const since = nowMs();
  await submitOne();
  await executionsFinished(env, which.name, 1, since, 30_000);
}
await new Promise((resolve) => setTimeout(resolve, 300));
const text = readFileSync(LOG).subarray(offset).toString('utf8');
await worker.stop();
await env.close();

const byPid = new Map<string, Map<string, number>>();
let total = 0;
let commits = 0;
for (const line of text.split('\n')) {
  const found = /\[(\d+)\] \S+@(\S+) LOG:\s+(?:statement|execute [^:]*): (.*)$/.exec(line);
  if (!found || found[2] !== dbName) continue;
  const [, pid = '', , statement = ''] = found;
  // Polls of the bench driver (counting finished executions) are not jetcel's cost.
  if (/jetcel_execution\s+where executor = /.test(statement) && /count\(\*\)/.test(statement)) continue;
  const kind = statement.replace(/\s+/g, ' ').trim().split(' ').slice(0, 4).join(' ').slice(0, 60);
  const counts = byPid.get(pid) ?? new Map<string, number>();
  counts.set(kind, (counts.get(kind) ?? 0) + 1);
  byPid.set(pid, counts);
  total++;
  if (/^(commit|COMMIT)/.test(statement.trim())) commits++;
}
const kinds = new Map<string, number>();
for (const counts of byPid.values()) for (const [kind, n] of counts) kinds.set(kind, (kinds.get(kind) ?? 0) + n);
for (const [kind, n] of [...kinds].sort((a, b) => b[1] - a[1]))
  process.stdout.write(`${(n / runs).toFixed(2).padStart(7)}  ${kind}\n`);
process.stdout.write(
  `figure=trace.${throttled ? 'throttled' : 'five_step'}.statements value=${(total / runs).toFixed(1)} unit=per execution\n`,
);
process.stdout.write(`figure=trace.commits value=${(commits / runs).toFixed(1)} unit=per execution\n`);
