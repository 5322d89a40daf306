import type { ChildProcess } from 'node:child_process';

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * Resolves once `child` has exited and its stdio has been drained ('close'),
 * or `graceMs` after 'exit' if a grandchild keeps the pipes open. Also
 * resolves (code null) if the process could not be spawned at all.
 */
export function childExit(child: ChildProcess, graceMs = 250): Promise<ChildExit> {
  return new Promise((resolve) => {
    let result: ChildExit | undefined;
    let timer: NodeJS.Timeout | undefined;
    const done = (): void => {
      if (timer) clearTimeout(timer);
      resolve(result ?? { code: child.exitCode, signal: child.signalCode });
    };
    child.once('exit', (code, signal) => {
      result = { code, signal };
      timer = setTimeout(done, graceMs);
    });
    child.once('close', (code: number | null, signal: NodeJS.Signals | null) => {
      result ??= { code, signal };
      done();
    });
    child.once('error', () => {
      // spawn failure: no 'exit' will follow, but 'close' may; make sure we settle
      if (child.pid === undefined) {
        result ??= { code: null, signal: null };
        timer ??= setTimeout(done, graceMs);
      }
    });
  });
}

/** True while the child has neither exited nor been killed by a signal. */
export function isAlive(child: ChildProcess): boolean {
  return child.pid !== undefined && child.exitCode === null && child.signalCode === null;
}

/** Sends SIGTERM, waits up to `graceMs`, then SIGKILL; resolves when the child is gone. */
export async function terminate(child: ChildProcess, exited: Promise<ChildExit>, graceMs = 10_000): Promise<ChildExit> {
  if (!isAlive(child)) return exited;
  child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), graceMs);
  });
  const first = await Promise.race([exited, timedOut]);
  clearTimeout(timer);
  if (first === 'timeout') {
    if (isAlive(child)) child.kill('SIGKILL');
    return exited;
  }
  return first;
}
