import { rmSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isAlive, terminate } from './child-exit.ts';
import { launchNats, NATS_HOST, type NatsProcess } from './nats-process.ts';
import { trackCleanup } from './process-registry.ts';

const READY_TIMEOUT_MS = 10_000;
const STOP_GRACE_MS = 10_000;

export interface StartNatsOptions {
  /** Run with JetStream (`-js -sd <storeDir>`). Default true. */
  jetstream?: boolean;
  /** Extra server configuration text, written to a file and passed with `-c`. Command-line flags win over it. */
  config?: string;
  /** Extra command-line arguments, appended last. */
  args?: string[];
}

export interface NatsServerHandle {
  /** `nats://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** The JetStream store dir; kept by stop() and restart(), removed by dispose. */
  readonly storeDir: string;
  /** The pid of the running server process, or undefined while it is stopped. */
  readonly pid: number | undefined;
  /** The server's log lines (stdout and stderr) since the last (re)start. */
  logs(): string[];
  /** SIGTERM, then wait for the process to exit (SIGKILL after 10 s). Keeps the store dir. */
  stop(): Promise<void>;
  /** Sends `signal` (default SIGKILL) to the server without waiting: a crash. */
  kill(signal?: NodeJS.Signals): void;
  /** stop(), then start again on the same port with the same store dir. Also starts a stopped or killed server. */
  restart(): Promise<void>;
  /** stop() and remove the temp dir (store dir included). */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Starts a private nats-server on 127.0.0.1 and a free port, with JetStream and
 * a fresh temp store dir, and resolves once it answers a TCP connection with
 * its INFO line. The server is SIGKILLed if the test process exits.
 */
export async function startNats(options: StartNatsOptions = {}): Promise<NatsServerHandle> {
  const jetstream = options.jetstream ?? true;
  const baseDir = await mkdtemp(join(tmpdir(), 'jetcel-nats-'));
  const storeDir = join(baseDir, 'store');
  const portsDir = join(baseDir, 'ports');
  let configFile: string | undefined;
  try {
    await mkdir(storeDir);
    await mkdir(portsDir);
    if (options.config !== undefined) {
      configFile = join(baseDir, 'nats.conf');
      await writeFile(configFile, options.config);
    }
  } catch (error) {
    await rm(baseDir, { recursive: true, force: true });
    throw error;
  }

  const launch = async (port: number | undefined): Promise<NatsProcess & { port: number }> => {
    const args = [
      ...(configFile ? ['-c', configFile] : []),
      '-a',
      NATS_HOST,
      '-p',
      String(port ?? -1),
      '-ports_file_dir',
      portsDir,
      ...(jetstream ? ['-js', '-sd', storeDir] : []),
      ...(options.args ?? []),
    ];
    const launched = launchNats({
      args,
      label: 'nats-server',
      port: port ?? ((pid) => portFromPortsFile(portsDir, pid)),
      timeoutMs: READY_TIMEOUT_MS,
    });
    return { ...launched, port: await launched.ready };
  };

  let current: NatsProcess & { port: number };
  try {
    current = await launch(undefined);
  } catch (error) {
    await rm(baseDir, { recursive: true, force: true });
    throw error;
  }
  const port = current.port;
  // the child itself is SIGKILLed by the registry; this removes its temp dir too
  const untrack = trackCleanup(() => rmSync(baseDir, { recursive: true, force: true }));

  const stop = async (): Promise<void> => {
    await terminate(current.child, current.exited, STOP_GRACE_MS);
  };

  return {
    url: `nats://${NATS_HOST}:${port}`,
    port,
    storeDir,
    get pid() {
      return isAlive(current.child) ? current.child.pid : undefined;
    },
    logs: () => current.output.lines(),
    stop,
    kill(signal: NodeJS.Signals = 'SIGKILL') {
      if (isAlive(current.child)) current.child.kill(signal);
    },
    async restart() {
      await stop();
      current = await launch(port);
    },
    async [Symbol.asyncDispose]() {
      await stop();
      untrack();
      await rm(baseDir, { recursive: true, force: true });
    },
  };
}

/** Reads the port from the `<exe>_<pid>.ports` file nats-server writes for `-p -1`. */
async function portFromPortsFile(portsDir: string, pid: number | undefined): Promise<number | undefined> {
  if (pid === undefined) return undefined;
  const name = (await readdir(portsDir)).find((file) => file.endsWith(`_${pid}.ports`));
  if (name === undefined) return undefined;
  const parsed: unknown = JSON.parse(await readFile(join(portsDir, name), 'utf8'));
  const url = isPortsFile(parsed) ? parsed.nats[0] : undefined;
  if (url === undefined) return undefined;
  const port = Number(new URL(url).port);
  return Number.isInteger(port) && port > 0 ? port : undefined;
}

function isPortsFile(value: unknown): value is { nats: string[] } {
  return (
    typeof value === 'object' &&
    value !== null &&
    'nats' in value &&
    Array.isArray(value.nats) &&
    value.nats.every((entry: unknown) => typeof entry === 'string')
  );
}
