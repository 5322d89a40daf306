import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { childExit, isAlive, terminate } from './child-exit.ts';
import { LineBuffer } from './line-buffer.ts';
import { trackChild } from './process-registry.ts';

const DEFAULT_TIMEOUT_MS = 10_000;
const STOP_GRACE_MS = 10_000;

export interface SpawnServiceOptions {
  /** The service directory; for a .ts entry tsx must be resolvable from it (workspace packages find the root's). */
  cwd: string;
  /** The entry file, absolute or relative to cwd: a .ts source runs under tsx, a .js bundle as it is. */
  entry: string;
  args?: string[];
  /** Options for node itself, before the entry (e.g. V8 heap sizes). */
  nodeOptions?: string[];
  /** Added to (and overriding) process.env. */
  env?: Record<string, string>;
  /** Resolve only once a stdout/stderr line matches this. */
  readyLine?: RegExp;
  /** How long to wait for readyLine (default 10 000 ms). */
  timeoutMs?: number;
}

export interface ServiceProcess {
  readonly pid: number;
  readonly child: ChildProcess;
  /** Every stdout and stderr line so far, in arrival order. */
  output(): string[];
  /** The first line so far or to come that matches `re` (default timeout 10 000 ms); rejects if the process exits first. */
  waitForLine(re: RegExp, timeoutMs?: number): Promise<string>;
  /** Sends `signal` (default SIGKILL) without waiting; await `exited` for the result. */
  kill(signal?: NodeJS.Signals): void;
  /** SIGTERM, wait up to 10 s, then SIGKILL; resolves with the exit code (null if killed by a signal). */
  stop(): Promise<number | null>;
  /** Resolves with the exit code (null if killed by a signal) once the process is gone. */
  readonly exited: Promise<number | null>;
}

/**
 * Runs `node [--import tsx] [...nodeOptions] <entry> ...args` in `cwd` as a child process, with
 * process.env plus `env`, collecting its output lines. If `readyLine` is given,
 * resolves only once a line matches it; otherwise as soon as the process has
 * been spawned. The child is SIGKILLed if the test process exits.
 */
export async function spawnService(options: SpawnServiceOptions): Promise<ServiceProcess> {
  const cwd = resolve(options.cwd);
  const tsx = options.entry.endsWith('.ts');
  if (tsx) assertTsxResolvable(cwd);
  const execArgv = [...(tsx ? ['--import', 'tsx'] : []), ...(options.nodeOptions ?? [])];
  const child = spawn(process.execPath, [...execArgv, options.entry, ...(options.args ?? [])], {
    cwd,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  trackChild(child);
  const lines = new LineBuffer();
  lines.attach(child.stdout);
  lines.attach(child.stderr);
  const label = `${options.entry} output`;
  const exit = childExit(child).then((result) => {
    lines.close(`the process exited (code ${result.code}, signal ${result.signal})`, label);
    return result;
  });
  const exited = exit.then((result) => result.code);

  await new Promise<void>((resolveSpawn, rejectSpawn) => {
    child.once('spawn', resolveSpawn);
    child.once('error', rejectSpawn);
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`spawnService: ${options.entry} has no pid`);

  const service: ServiceProcess = {
    pid,
    child,
    output: () => lines.lines(),
    waitForLine: (re, timeoutMs = DEFAULT_TIMEOUT_MS) => lines.waitFor(re, timeoutMs, label),
    kill(signal: NodeJS.Signals = 'SIGKILL') {
      if (isAlive(child)) child.kill(signal);
    },
    stop: async () => (await terminate(child, exit, STOP_GRACE_MS)).code,
    exited,
  };

  if (options.readyLine) {
    try {
      await service.waitForLine(options.readyLine, options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    } catch (error) {
      service.kill('SIGKILL');
      await exited;
      throw error;
    }
  }
  return service;
}

/** Fails early, with a clear message, when `node --import tsx` would not find tsx from `cwd`. */
function assertTsxResolvable(cwd: string): void {
  try {
    createRequire(join(cwd, 'noop.js')).resolve('tsx/package.json');
  } catch {
    throw new Error(
      `spawnService: tsx cannot be resolved from ${cwd}; add it to that package or to the workspace root`,
    );
  }
}
