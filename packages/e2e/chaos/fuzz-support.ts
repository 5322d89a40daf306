// Shared pieces of the G1/G2 "bad input" fuzz suites: the seed, a raw NATS client (so hostile
// bytes and headers reach the servers exactly as generated, and every reply is counted), the
// reply-envelope check, table counts and the executor's RSS.
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { ERROR_CODES, isErrorCode, replySchema, type Reply } from '@jetcel/contracts';
import type { Stack } from '../test/stack.ts';

/** One seed for every property of a run; override with JETCEL_FUZZ_SEED to replay a failure. */
export const FUZZ_SEED = Number(process.env.JETCEL_FUZZ_SEED ?? 20_261_127);

export function log(message: string, details: Record<string, unknown> = {}): void {
  process.stdout.write(`# fuzz: ${message} ${JSON.stringify(details)}\n`);
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

// ---- a raw NATS client ------------------------------------------------------------------------

export interface RawReply {
  /** The header block as received (empty for a plain MSG). */
  headers: string;
  payload: Buffer;
}

/** NATS header block `NATS/1.0\r\nK: V\r\n…\r\n`, written as is: nothing validated, nothing trimmed. */
export function headerBlock(entries: ReadonlyArray<readonly [string, string]>): Buffer {
  return Buffer.from(`NATS/1.0\r\n${entries.map(([key, value]) => `${key}: ${value}\r\n`).join('')}\r\n`, 'utf8');
}

/**
 * A minimal NATS protocol client over a TCP socket. It publishes bytes and header blocks exactly
 * as given (nats.js would refuse or trim some), and counts every reply each inbox gets, so a test
 * can tell "no reply" and "two replies" from "exactly one".
 */
export class RawNats {
  readonly #socket: net.Socket;
  // Under _INBOX.: the executor answers inboxes only.
  readonly #prefix = `_INBOX.fuzz.${process.pid}.${Math.random().toString(36).slice(2)}`;
  readonly #waiting = new Map<string, (reply: RawReply) => void>();
  readonly #replies = new Map<string, number>();
  readonly #errors: string[] = [];
  #buffer: Buffer = Buffer.alloc(0);
  #next = 0;
  #pong: (() => void) | undefined;

  private constructor(socket: net.Socket) {
    this.#socket = socket;
    socket.on('data', (chunk: Buffer) => this.#read(chunk));
    socket.on('error', (error) => this.#errors.push(String(error)));
  }

  static async connect(url: string): Promise<RawNats> {
    const { hostname, port } = new URL(url);
    const socket = net.connect(Number(port), hostname);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const client = new RawNats(socket);
    const options = { verbose: false, pedantic: false, headers: true, no_responders: true, protocol: 1, name: 'fuzz' };
    socket.write(`CONNECT ${JSON.stringify(options)}\r\nSUB ${client.#prefix}.* 1\r\n`);
    await client.flush();
    return client;
  }

  /** Server errors (-ERR lines) and socket errors seen so far. */
  errors(): string[] {
    return [...this.#errors];
  }

  /** Inboxes that received more than one reply. */
  duplicates(): Array<[string, number]> {
    return [...this.#replies].filter(([, count]) => count > 1);
  }

  /** A round trip to the server: everything written before has been processed. */
  async flush(timeoutMs = 5000): Promise<void> {
    const pong = new Promise<void>((resolve) => (this.#pong = resolve));
    this.#socket.write('PING\r\n');
    await withTimeout(pong, timeoutMs, 'PONG');
  }

  /** Publishes with a fresh reply inbox; resolves with the first reply or undefined after timeoutMs. */
  request(subject: string, payload: Uint8Array, headers?: Buffer, timeoutMs = 10_000): Promise<RawReply | undefined> {
    const inbox = `${this.#prefix}.${++this.#next}`;
    this.#replies.set(inbox, 0);
    const reply = new Promise<RawReply | undefined>((resolve) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(inbox);
        resolve(undefined);
      }, timeoutMs);
      this.#waiting.set(inbox, (value) => {
        clearTimeout(timer);
        resolve(value);
      });
    });
    this.#write(subject, inbox, payload, headers);
    return reply;
  }

  close(): void {
    this.#socket.destroy();
  }

  #write(subject: string, inbox: string, payload: Uint8Array, headers: Buffer | undefined): void {
    const head = headers
      ? `HPUB ${subject} ${inbox} ${headers.length} ${headers.length + payload.length}\r\n`
      : `PUB ${subject} ${inbox} ${payload.length}\r\n`;
    this.#socket.write(
      Buffer.concat([Buffer.from(head, 'latin1'), headers ?? Buffer.alloc(0), payload, Buffer.from('\r\n')]),
    );
  }

  #read(chunk: Buffer): void {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    for (;;) {
      const eol = this.#buffer.indexOf('\r\n');
      if (eol < 0) return;
      const line = this.#buffer.subarray(0, eol).toString('latin1');
      const [op = '', ...args] = line.split(' ');
      if (op === 'MSG' || op === 'HMSG') {
        const total = Number(args[args.length - 1]);
        const headerBytes = op === 'HMSG' ? Number(args[args.length - 2]) : 0;
        const start = eol + 2;
        if (this.#buffer.length < start + total + 2) return;
        const reply: RawReply = {
          headers: this.#buffer.subarray(start, start + headerBytes).toString('utf8'),
          payload: Buffer.from(this.#buffer.subarray(start + headerBytes, start + total)),
        };
        this.#buffer = this.#buffer.subarray(start + total + 2);
        this.#deliver(args[0] ?? '', reply);
        continue;
      }
      this.#buffer = this.#buffer.subarray(eol + 2);
      if (op === 'PING') this.#socket.write('PONG\r\n');
      else if (op === 'PONG') this.#pong?.();
      else if (op === '-ERR') this.#errors.push(line);
    }
  }

  #deliver(inbox: string, reply: RawReply): void {
    this.#replies.set(inbox, (this.#replies.get(inbox) ?? 0) + 1);
    const waiter = this.#waiting.get(inbox);
    this.#waiting.delete(inbox);
    waiter?.(reply);
  }
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

// ---- replies ----------------------------------------------------------------------------------

/**
 * A reply must be exactly one JSON envelope: `{ok:true,data}` or
 * `{ok:false,error:{code,message,retryable}}` with a code from the closed set and the retryable
 * flag that code carries. Returns a reason when it is not.
 */
export function envelopeProblem(reply: RawReply | undefined): string | undefined {
  if (!reply) return 'no reply';
  if (/^NATS\/1\.0 503/.test(reply.headers)) return 'no responders';
  let json: unknown;
  try {
    json = JSON.parse(reply.payload.toString('utf8'));
  } catch {
    return `reply is not JSON: ${reply.payload.toString('utf8').slice(0, 200)}`;
  }
  const parsed = replySchema.safeParse(json);
  if (!parsed.success) return `reply is not an envelope: ${JSON.stringify(json).slice(0, 300)}`;
  const envelope: Reply = parsed.data;
  if (envelope.ok) return undefined;
  const { code, message, retryable } = envelope.error;
  if (!isErrorCode(code)) return `unknown code ${String(code)}`;
  if (message.length === 0) return `empty message for ${code}`;
  if (retryable !== ERROR_CODES[code].retryable) return `${code} with retryable=${retryable}`;
  return undefined;
}

export function parseReply(reply: RawReply): Reply {
  return JSON.parse(reply.payload.toString('utf8')) as Reply;
}

// ---- the database and the processes -----------------------------------------------------------

/** Resource, execution and bookkeeping tables whose row counts rejected input must not change. */
export const WATCHED_TABLES = [
  'ref_instance',
  'ref_volume',
  'ref_project',
  'ref_cloud_settings',
  'jetcel_execution',
  'jetcel_step',
  'jetcel_outbox',
  'jetcel_idempotency_key',
  'jetcel_background_run',
] as const;

export async function tableCounts(stack: Stack, tables: readonly string[] = WATCHED_TABLES) {
  const select = tables.map((table) => `(select count(*) from "${table}") as "${table}"`).join(', ');
  const [row] = await stack.sql<Record<string, string>>(`select ${select}`);
  return Object.fromEntries(tables.map((table) => [table, Number(row?.[table])]));
}

/** Resident set size of a process, in KiB, from /proc/<pid>/status. */
export function rssKiB(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match?.[1]) throw new Error(`no VmRSS for ${pid}`);
  return Number(match[1]);
}

/** The process still runs (no exit code, no signal) and answers signal 0. */
export function isRunning(service: { pid: number; child: { exitCode: number | null; signalCode: unknown } }): boolean {
  if (service.child.exitCode !== null || service.child.signalCode !== null) return false;
  try {
    process.kill(service.pid, 0);
    return true;
  } catch {
    return false;
  }
}
