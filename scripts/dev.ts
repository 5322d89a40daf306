// `pnpm dev`: the whole stack without Docker, against the local NATS (4222) and PostgreSQL (5432).
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const env = {
  ...process.env,
  NATS_URL: process.env.NATS_URL ?? 'nats://127.0.0.1:4222',
  DATABASE_URL: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/jetcel',
  CLOUD_URL: process.env.CLOUD_URL ?? 'http://127.0.0.1:8774',
  CLOUD_PORT: process.env.CLOUD_PORT ?? '8774',
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
const children: ChildProcess[] = [];

function start(name: string, entry: string, args: string[] = [], extra: Record<string, string> = {}): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', entry, ...args], {
    cwd: root,
    env: { ...env, ...extra },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
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
  children.push(child);
  return child;
}

async function job(name: string, entry: string, args: string[] = []): Promise<void> {
  const code = await new Promise<number | null>((done) => start(name, entry, args).on('exit', done));
  if (code !== 0) throw new Error(`${name} exited with ${code}`);
}

await job('migrate', 'services/migrate/src/main.ts', ['up']);
await job('topology', 'services/topology/src/main.ts');
start('cloud', 'services/cloud/src/main.ts');
start('executor', 'services/executor/src/main.ts', [], metricsEnv());
for (const queue of ['regular', 'heavy', 'background'])
  start(`worker-${queue}`, 'services/worker/src/main.ts', ['--queue', queue], metricsEnv());
start('beat', 'services/beat/src/main.ts', [], metricsEnv());

const stop = (): void => {
  for (const child of children) child.kill('SIGTERM');
  setTimeout(() => process.exit(0), 3000).unref();
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
