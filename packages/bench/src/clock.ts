/** Wall-clock milliseconds with sub-millisecond resolution, comparable across processes on one machine. */
export const nowMs = (): number => performance.timeOrigin + performance.now();

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Calls `fire(i)` for i in 0..count-1 at `ratePerSecond`, open loop (a slow call never delays the next). */
export async function atRate(
  count: number,
  ratePerSecond: number,
  fire: (i: number) => Promise<unknown>,
): Promise<void> {
  const gapMs = 1000 / ratePerSecond;
  const start = nowMs();
  const pending: Array<Promise<unknown>> = [];
  for (let i = 0; i < count; i++) {
    const wait = start + i * gapMs - nowMs();
    if (wait > 0) await sleep(wait);
    pending.push(fire(i));
  }
  await Promise.all(pending);
}

/** Runs `fire(i)` for i in 0..count-1 with at most `window` calls in flight. */
export async function windowed(count: number, window: number, fire: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < count) await fire(next++);
  };
  await Promise.all(Array.from({ length: Math.min(window, count) }, lane));
}
