import type { BenchChild } from './ipc.ts';

/**
 * Runs one system's phase on an otherwise idle machine: the worker processes of the scenario's
 * other systems are stopped (SIGSTOP) meanwhile and continued afterwards, so their idle work (DBOS's
 * queue poll every 10 ms, timers, heartbeats) is not load on the system being measured.
 */
export async function alone<T>(
  own: readonly BenchChild[],
  every: readonly BenchChild[],
  phase: () => Promise<T>,
): Promise<T> {
  const others = every.filter((child) => !own.includes(child));
  for (const child of others) child.pause();
  try {
    return await phase();
  } finally {
    for (const child of others) child.resume();
  }
}
