// Shared test helpers: a bus on the test server, clean streams, polling, sleeping.
import net from 'node:net';
import { after, before, beforeEach } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { connectBus, type Bus } from '../src/index.ts';
import { startNats, type NatsServerHandle } from '@jetcel/testing';

export { sleep };

export function openBus(nats: NatsServerHandle, name = 'bus-test'): Promise<Bus> {
  return connectBus({ servers: nats.url, name, reconnectTimeWaitMs: 200 });
}

export interface TestBus {
  readonly nats: NatsServerHandle;
  readonly bus: Bus;
}

/**
 * A private nats-server and a bus on it for the enclosing describe(); with `cleanStreams`, every
 * stream is deleted before each test. Read `.bus` / `.nats` inside hooks and tests, not at load.
 */
export function useTestBus(options: { cleanStreams?: boolean } = {}): TestBus {
  let nats: NatsServerHandle | undefined;
  let bus: Bus | undefined;
  before(async () => {
    nats = await startNats();
    bus = await openBus(nats);
  });
  after(async () => {
    await bus?.close();
    await nats?.[Symbol.asyncDispose]();
  });
  if (options.cleanStreams) beforeEach(async () => deleteAllStreams(bus!));
  return {
    get nats() {
      if (!nats) throw new Error('useTestBus: the server is not started yet');
      return nats;
    },
    get bus() {
      if (!bus) throw new Error('useTestBus: the bus is not open yet');
      return bus;
    },
  };
}

/** Deletes every stream (and so every consumer) on the test server. */
export async function deleteAllStreams(bus: Bus): Promise<void> {
  const jsm = await bus.jsm();
  const names: string[] = [];
  for await (const name of jsm.streams.names()) names.push(name);
  for (const name of names) await jsm.streams.delete(name);
}

export { eventually } from '@jetcel/testing';

export const text = (data: Uint8Array): string => new TextDecoder().decode(data);

/**
 * Publishes a header block exactly as given, over a bare protocol connection: nats.js refuses to
 * send header names the server accepts (`Bad Key`, `clé`), as any other client may.
 */
export async function rawPublish(
  nats: NatsServerHandle,
  subject: string,
  headerLines: string[],
  body: string,
  reply = '',
): Promise<void> {
  const block = `NATS/1.0\r\n${headerLines.map((line) => `${line}\r\n`).join('')}\r\n`;
  const headerBytes = Buffer.byteLength(block);
  const total = headerBytes + Buffer.byteLength(body);
  const socket = net.connect(Number(new URL(nats.url).port), '127.0.0.1');
  try {
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const pong = new Promise<void>((resolve) => socket.on('data', (chunk) => chunk.includes('PONG') && resolve()));
    socket.write('CONNECT {"verbose":false,"headers":true,"protocol":1}\r\n');
    socket.write(`HPUB ${subject} ${reply} ${headerBytes} ${total}\r\n${block}${body}\r\nPING\r\n`);
    await pong;
  } finally {
    socket.destroy();
  }
}
