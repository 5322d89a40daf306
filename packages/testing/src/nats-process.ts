import { spawn, type ChildProcess } from 'node:child_process';
import { childExit, isAlive, type ChildExit } from './child-exit.ts';
import { eventually } from './eventually.ts';
import { LineBuffer } from './line-buffer.ts';
import { trackChild } from './process-registry.ts';
import { readFirstLine } from './tcp.ts';

/** The nats-server binary (v2.9.10 on this machine kind); override with JETCEL_NATS_SERVER. */
const NATS_SERVER = process.env['JETCEL_NATS_SERVER'] ?? '/usr/sbin/nats-server';
export const NATS_HOST = '127.0.0.1';

export interface NatsProcess {
  child: ChildProcess;
  exited: Promise<ChildExit>;
  output: LineBuffer;
  /**
   * Resolves with the client port once it answers INFO; rejects with the server's output if the
   * server exits first or does not answer in time (and then no process is left behind).
   */
  ready: Promise<number>;
}

export interface LaunchNatsOptions {
  args: string[];
  /** Names the server in errors and in its output excerpt, e.g. `nats-server` or `nats-server node-2`. */
  label: string;
  /** The client port, or a probe for it given the server's pid (undefined while it is not known yet, e.g. with `-p -1`). */
  port: number | ((pid: number | undefined) => Promise<number | undefined>);
  timeoutMs: number;
}

/** Spawns one nats-server, SIGKILLed if the test process exits; see `ready`. */
export function launchNats(options: LaunchNatsOptions): NatsProcess {
  const { args, label } = options;
  const child = spawn(NATS_SERVER, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  trackChild(child);
  const output = new LineBuffer();
  output.attach(child.stdout);
  output.attach(child.stderr);
  let spawnError: Error | undefined;
  child.once('error', (error) => {
    spawnError = error;
  });
  const exited = childExit(child).then((exit) => {
    output.close(`nats-server exited (code ${exit.code}, signal ${exit.signal})`, `${label} output`);
    return exit;
  });

  const portOf = options.port;
  const giveUp = new AbortController();
  const ready = eventually(
    async () => {
      const port = typeof portOf === 'number' ? portOf : await portOf(child.pid);
      if (port === undefined) return undefined;
      const line = await readFirstLine(NATS_HOST, port, 1_000);
      return line.startsWith('INFO ') ? port : undefined;
    },
    {
      timeoutMs: options.timeoutMs,
      intervalMs: 25,
      message: `${label} (${args.join(' ')}) did not answer INFO`,
      signal: giveUp.signal,
    },
  );
  const died = exited.then((exit) => {
    const reason = spawnError
      ? `could not be spawned: ${spawnError.message}`
      : `exited (code ${exit.code}, signal ${exit.signal})`;
    throw new Error(`${label} ${reason} before it was ready\n--- output ---\n${output.excerpt()}`);
  });
  const answered = Promise.race([ready, died]).then(
    (port) => {
      died.catch(() => {}); // it rejects later, when the server stops
      return port;
    },
    async (error: unknown) => {
      giveUp.abort();
      ready.catch(() => {});
      died.catch(() => {});
      if (isAlive(child)) child.kill('SIGKILL');
      await exited;
      throw error;
    },
  );
  return { child, exited, output, ready: answered };
}
