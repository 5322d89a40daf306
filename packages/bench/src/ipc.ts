import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
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

export interface BenchChild {
  readonly pid: number;
  call<T>(command: string, args?: unknown): Promise<T>;
  /** VmHWM (peak) and VmRSS (now) in MiB, read from /proc. */
  memory(): { peakMiB: number; rssMiB: number };
  stop(): Promise<void>;
}

/** Forks `src/<entry>` under tsx with an IPC channel and waits for its ready message. */
export async function forkChild(
  entry: string,
  options: { args?: string[]; env?: Record<string, string>; cpuProfDir?: string },
): Promise<BenchChild> {
  const execArgv = ['--import', 'tsx'];
  if (options.cpuProfDir) execArgv.push('--cpu-prof', `--cpu-prof-dir=${options.cpuProfDir}`);
  const child: ChildProcess = fork(resolve(here, entry), options.args ?? [], {
    execArgv,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  let nextId = 1;
  const exited = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()));
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
