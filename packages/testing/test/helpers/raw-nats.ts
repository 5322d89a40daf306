import { connect, type Socket } from 'node:net';

/**
 * A deliberately tiny NATS protocol client over a raw socket, so the tests
 * can check the server without a NATS client dependency: INFO, PING/PONG
 * and request/reply (enough to call the JetStream API).
 */
export class RawNats {
  readonly info: Record<string, unknown>;
  readonly #socket: Socket;
  #buffer: Buffer = Buffer.alloc(0);
  #nextSid = 1;
  readonly #pending = new Map<string, (payload: string) => void>();
  readonly #pongs: Array<() => void> = [];

  private constructor(socket: Socket, info: Record<string, unknown>, rest: Buffer) {
    this.#socket = socket;
    this.info = info;
    this.#buffer = rest;
    socket.on('data', (chunk: Buffer) => {
      this.#buffer = Buffer.concat([this.#buffer, chunk]);
      this.#parse();
    });
  }

  static connect(port: number): Promise<RawNats> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port });
      let buffer: Buffer = Buffer.alloc(0);
      const onData = (chunk: Buffer): void => {
        buffer = Buffer.concat([buffer, chunk]);
        const end = buffer.indexOf('\r\n');
        if (end < 0) return;
        socket.off('data', onData);
        socket.off('error', reject);
        const line = buffer.subarray(0, end).toString('utf8');
        if (!line.startsWith('INFO ')) {
          socket.destroy();
          reject(new Error(`expected INFO, got ${line}`));
          return;
        }
        const info = JSON.parse(line.slice(5)) as Record<string, unknown>;
        socket.write('CONNECT {"verbose":false,"pedantic":false,"headers":false}\r\n');
        resolve(new RawNats(socket, info, buffer.subarray(end + 2)));
      };
      socket.on('data', onData);
      socket.once('error', reject);
    });
  }

  /** Round trip: proves the server accepted our CONNECT and answers. */
  ping(timeoutMs = 2_000): Promise<void> {
    return this.#withTimeout(
      new Promise<void>((resolve) => {
        this.#pongs.push(resolve);
        this.#socket.write('PING\r\n');
      }),
      timeoutMs,
      'PONG',
    );
  }

  /** Publishes `payload` on `subject` and resolves with the first reply's payload. */
  request(subject: string, payload: string, timeoutMs = 2_000): Promise<string> {
    const sid = String(this.#nextSid++);
    const inbox = `_INBOX.raw.${process.pid}.${sid}`;
    const reply = new Promise<string>((resolve) => {
      this.#pending.set(sid, resolve);
    });
    const body = Buffer.from(payload, 'utf8');
    this.#socket.write(`SUB ${inbox} ${sid}\r\nUNSUB ${sid} 1\r\nPUB ${subject} ${inbox} ${body.length}\r\n`);
    this.#socket.write(Buffer.concat([body, Buffer.from('\r\n')]));
    return this.#withTimeout(reply, timeoutMs, `a reply on ${subject}`).finally(() => this.#pending.delete(sid));
  }

  close(): void {
    this.#socket.destroy();
  }

  #parse(): void {
    for (;;) {
      const end = this.#buffer.indexOf('\r\n');
      if (end < 0) return;
      const line = this.#buffer.subarray(0, end).toString('utf8');
      if (line.startsWith('MSG ')) {
        // MSG <subject> <sid> [reply-to] <#bytes>
        const parts = line.split(' ');
        const size = Number(parts[parts.length - 1]);
        const sid = parts[2] ?? '';
        if (this.#buffer.length < end + 2 + size + 2) return; // wait for the whole payload
        const payload = this.#buffer.subarray(end + 2, end + 2 + size).toString('utf8');
        this.#buffer = this.#buffer.subarray(end + 2 + size + 2);
        this.#pending.get(sid)?.(payload);
        continue;
      }
      this.#buffer = this.#buffer.subarray(end + 2);
      if (line === 'PING') this.#socket.write('PONG\r\n');
      else if (line === 'PONG') this.#pongs.shift()?.();
    }
  }

  #withTimeout<V>(promise: Promise<V>, ms: number, what: string): Promise<V> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms);
    });
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
  }
}
