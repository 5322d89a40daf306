// Shared test helpers: a bus on the test server, clean streams, polling, sleeping.
import { setTimeout as sleep } from 'node:timers/promises';
import { connectBus, type Bus } from '../src/index.ts';
import type { TestNats } from './nats-server.ts';

export { sleep };

export function openBus(nats: TestNats, name = 'bus-test'): Promise<Bus> {
  return connectBus({ servers: nats.url, name, reconnectTimeWaitMs: 200 });
}

/** Deletes every stream (and so every consumer) on the test server. */
export async function deleteAllStreams(bus: Bus): Promise<void> {
  const jsm = await bus.jsm();
  const names: string[] = [];
  for await (const name of jsm.streams.names()) names.push(name);
  for (const name of names) await jsm.streams.delete(name);
}

/** Polls `check` until it returns true (or a value other than false/undefined), or fails after timeoutMs. */
export async function eventually<T>(
  check: () => Promise<T | false | undefined> | T | false | undefined,
  { timeoutMs = 10_000, intervalMs = 50, what = 'condition' } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== false && value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`Timed out waiting for ${what}`, lastError === undefined ? undefined : { cause: lastError });
    }
    await sleep(intervalMs);
  }
}

export const text = (data: Uint8Array): string => new TextDecoder().decode(data);
