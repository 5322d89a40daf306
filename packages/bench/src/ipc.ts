import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import type { Recorder } from './recorder.ts';

/** A request from the driver to a bench worker process, and its answer. */
interface Call {
  id: number;
  command: string;
  args: unknown;
}
type Answer = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string };

export type Handlers = Record<string, (args: never) => unknown>;

const here = dirname(fileURLToPath(import.meta.url));

/** Child side: answers the driver's calls; `count` and `drain` read the recorder; `stop` exits. */
export function serveDriver(recorder: Recorder, handlers: Handlers, stop: () => Promise<void>): void {
  const all: Handlers = {
    count: () => recorder.count(),
    drain: () => recorder.drain(),
    memory: () => memoryBreakdown(),
    stop: async () => {
      await stop();
      setImmediate(() => process.exit(0));
      return true;
    },
    ...handlers,
  };
  process.on('message', (raw: Call) => {
    const handler = all[raw.command];
    Promise.resolve()
      .then(() => {
        if (!handler) throw new Error(`unknown command ${raw.command}`);
        return (handler as (args: unknown) => unknown)(raw.args);
      })
      .then(
        (value) => process.send?.({ id: raw.id, ok: true, value } satisfies Answer),
        (error: unknown) => process.send?.({ id: raw.id, ok: false, error: String(error) } satisfies Answer),
      );
  });
  process.on('disconnect', () => process.exit(0));
  process.send?.({ ready: true });
}

/** What the process's memory is made of, in MiB: the V8 heap by space, and what lies outside it. */
export function memoryBreakdown(): Record<string, number> {
  const mib = (bytes: number): number => Math.round((bytes / 2 ** 20) * 10) / 10;
  const usage = process.memoryUsage();
  const spaces = Object.fromEntries(
    v8.getHeapSpaceStatistics().map((space) => [`space.${space.space_name}`, mib(space.space_size)]),
  );
  return {
    rss: mib(usage.rss),
    heapTotal: mib(usage.heapTotal),
    heapUsed: mib(usage.heapUsed),
    external: mib(usage.external),
    arrayBuffers: mib(usage.arrayBuffers),
    ...spaces,
  };
}

export interface BenchChild {
  readonly pid: number;
  call<T>(command: string, args?: unknown): Promise<T>;
  /** VmHWM (peak) and VmRSS (now) in MiB, read from /proc. */
  memory(): { peakMiB: number; rssMiB: number };
  stop(): Promise<void>;
}

/**
 * Entries that production runs bundled (`pnpm build`, esbuild): the bench forks the bundle when it
 * exists, so the jetcel worker is measured as deployed. `BENCH_WORKER_FROM=source` forks the
 * TypeScript source under tsx instead.
 */
const BUNDLES: Readonly<Record<string, string>> = { 'jetcel/worker.ts': '../dist/jetcel-worker.js' };

/**
 * The V8 options compose.yaml gives every jetcel worker (docs/design.md, "Storage and runtime"): a young
 * generation of 8 MiB per semi-space instead of Node 20's 16 MiB, and an old generation that grows by at
 * most its live size before the next full collection. The bench's test checks compose.yaml
 * against this list; `BENCH_NODE_FLAGS="…"` replaces it for an experiment ("" for V8's defaults).
 */
export const WORKER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=8', '--heap-growing-percent=100'];

/** The options the bench's jetcel workers run with: WORKER_NODE_FLAGS, or BENCH_NODE_FLAGS. */
export function workerNodeFlags(env: NodeJS.ProcessEnv = process.env): string[] {
  const override = env.BENCH_NODE_FLAGS;
  return override === undefined ? [...WORKER_NODE_FLAGS] : override.split(' ').filter(Boolean);
}

/** The file a child runs and the Node options it needs: the bundle, or `src/<entry>` under tsx. */
export function childEntry(entry: string): { file: string; execArgv: string[] } {
  const bundle = BUNDLES[entry] === undefined ? undefined : resolve(here, BUNDLES[entry]);
  if (bundle && process.env.BENCH_WORKER_FROM !== 'source' && existsSync(bundle)) return { file: bundle, execArgv: [] };
  return { file: resolve(here, entry), execArgv: ['--import', 'tsx'] };
}

/** Forks `entry` (see `childEntry`) with an IPC channel and waits for its ready message. */
export async function forkChild(
  entry: string,
  options: { args?: string[]; env?: Record<string, string>; cpuProfDir?: string; nodeOptions?: string[] },
): Promise<BenchChild> {
  const { file, execArgv } = childEntry(entry);
  execArgv.push(...(options.nodeOptions ?? []));
  if (options.cpuProfDir) execArgv.push('--cpu-prof', `--cpu-prof-dir=${options.cpuProfDir}`);
  const child: ChildProcess = fork(file, options.args ?? [], {
    execArgv,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  let nextId = 1;
  let stopping = false;
  const exited = new Promise<void>((resolveExit) =>
    child.once('exit', (code, signal) => {
      // A worker that dies mid-run is reported; its phases then time out or fail on their own.
      if (!stopping) process.stderr.write(`${entry} (pid ${child.pid}) exited with ${signal ?? code} during the run\n`);
      resolveExit();
    }),
  );
  await new Promise<void>((resolveReady, rejectReady) => {
    const timer = setTimeout(() => rejectReady(new Error(`${entry} did not start within 30 s`)), 30_000);
    child.once('exit', (code) => rejectReady(new Error(`${entry} exited with ${code} before it was ready`)));
    child.on('message', (message: Answer | { ready: true }) => {
      if ('ready' in message) {
        clearTimeout(timer);
        resolveReady();
        return;
      }
      const waiter = pending.get(message.id);
      pending.delete(message.id);
      if (message.ok) waiter?.resolve(message.value);
      else waiter?.reject(new Error(`${entry}: ${message.error}`));
    });
  });
  const pid = child.pid ?? 0;
  return {
    pid,
    call: <T>(command: string, args?: unknown) =>
      new Promise<T>((resolveCall, rejectCall) => {
        const id = nextId++;
        pending.set(id, { resolve: resolveCall as (value: unknown) => void, reject: rejectCall });
        child.send({ id, command, args: args ?? null } satisfies Call);
      }),
    memory: () => readMemory(pid),
    async stop() {
      stopping = true;
      if (child.exitCode !== null) return;
      const id = nextId++;
      child.send({ id, command: 'stop', args: null } satisfies Call);
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

function readMemory(pid: number): { peakMiB: number; rssMiB: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { peakMiB: kib('VmHWM') / 1024, rssMiB: kib('VmRSS') / 1024 };
}
