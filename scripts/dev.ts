// `pnpm dev`: the whole stack without Docker, against the local NATS (4222) and PostgreSQL (5432),
// for the configured domains (JETCEL_DOMAINS or jetcel.config.ts), with each domain's own
// development processes (the reference domain's simulated cloud). SIGTERM or Ctrl-C stops every
// process started here: SIGTERM first, SIGKILL for any still running after STOP_GRACE_MS.
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { composeDomains, loadDomains } from '@jetcel/runtime';

const STOP_GRACE_MS = 10_000;
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const env: NodeJS.ProcessEnv = {
  ...process.env,
  NATS_URL: process.env.NATS_URL ?? 'nats://127.0.0.1:4222',
  DATABASE_URL: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/jetcel',
  // A development machine: callers without a token are let in (the executor logs a warning), and
  // `dev-only-` secrets are accepted.
  JETCEL_AUTH_ANONYMOUS: process.env.JETCEL_AUTH_ANONYMOUS ?? 'allow',
  JETCEL_DEV: process.env.JETCEL_DEV ?? '1',
  // The services' stdout is a pipe here: pretty lines when this terminal is one.
  ...(process.stdout.isTTY && process.env.LOG_PRETTY === undefined ? { LOG_PRETTY: '1' } : {}),
};
// JETCEL_METRICS_PORT=9464 pnpm dev: executor 9464, worker-regular 9465, … beat 9468.
const metricsBase = process.env.JETCEL_METRICS_PORT ? Number(process.env.JETCEL_METRICS_PORT) : null;
let metricsNext = 0;
const metricsEnv = (): Record<string, string> =>
  metricsBase === null ? {} : { JETCEL_METRICS_PORT: String(metricsBase + metricsNext++) };
const children = new Set<ChildProcess>();
let stopping = false;

function log(line: string): void {
  process.stdout.write(`${'dev'.padEnd(18)} | ${line}\n`);
}

function start(name: string, command: readonly string[], extra: Readonly<Record<string, string>> = {}): ChildProcess {
  const [program = process.execPath, ...args] = command;
  const child = spawn(program, args, { cwd: root, env: { ...env, ...extra }, stdio: ['ignore', 'pipe', 'pipe'] });
  const prefix = `${name.padEnd(18)} | `;
  for (const stream of [child.stdout, child.stderr]) {
    let buffer = '';
    stream.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const lines = buffer.split('\n');
      buffer = lines.pop() ?? '';
      for (const line of lines) process.stdout.write(prefix + line + '\n');
    });
  }
  children.add(child);
  child.once('exit', () => children.delete(child));
  log(`started ${name} (pid ${child.pid ?? '?'})`);
  return child;
}

const service = (entry: string, args: string[] = []): string[] => [
  process.execPath,
  '--import',
  'tsx',
  resolve(root, entry),
  ...args,
];

async function job(name: string, command: readonly string[]): Promise<void> {
  const code = await new Promise<number | null>((done) => start(name, command).once('exit', done));
  if (code !== 0 && !stopping) throw new Error(`${name} exited with ${code}`);
}

async function stop(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log(`${signal}: stopping ${children.size} processes`);
  const exits = [...children].map((child) => new Promise<void>((done) => child.once('exit', () => done())));
  for (const child of children) child.kill('SIGTERM');
  const killer = setTimeout(() => {
    for (const child of children) child.kill('SIGKILL');
  }, STOP_GRACE_MS);
  await Promise.all(exits);
  clearTimeout(killer);
  log('stopped');
  process.exit(0);
}
process.once('SIGINT', () => void stop('SIGINT'));
process.once('SIGTERM', () => void stop('SIGTERM'));

// The domains are loaded (and checked for clashes) here first, so a bad configuration starts nothing.
const domains = composeDomains(await loadDomains({ env }));
log(`domains: ${domains.names.join(', ')}`);
await job('migrate', service('services/migrate/src/main.ts', ['up']));
if (!stopping) await job('topology', service('services/topology/src/main.ts'));
if (!stopping) {
  for (const devProcess of domains.devProcesses) start(devProcess.name, devProcess.command, devProcess.env);
  start('executor', service('services/executor/src/main.ts'), metricsEnv());
  for (const queue of ['regular', 'heavy', 'background'])
    start(`worker-${queue}`, service('services/worker/src/main.ts', ['--queue', queue]), metricsEnv());
  start('beat', service('services/beat/src/main.ts'), metricsEnv());
}
