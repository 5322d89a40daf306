import { sleep } from './clock.ts';
import type { BenchChild } from './ipc.ts';

/** Polls until `probe` returns a value, or fails after `timeoutMs` with what it last saw. */
export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs: number,
  everyMs = 20,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** Waits until the children together handled `n` tasks; returns the time the last one was handled. */
export async function handledBy(children: BenchChild[], n: number, timeoutMs: number): Promise<number> {
  return until(
    `${n} tasks handled`,
    async () => {
      const counts = await Promise.all(children.map((child) => child.call<{ count: number; lastAt: number }>('count')));
      const total = counts.reduce((sum, { count }) => sum + count, 0);
      return total >= n ? Math.max(...counts.map(({ lastAt }) => lastAt)) : undefined;
    },
    timeoutMs,
  );
}
