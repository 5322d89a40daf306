import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.ts';
import { trackCleanup } from './process-registry.ts';
import { runCommand, runOrThrow } from './run-command.ts';

/** PostgreSQL 15 server binaries; override with JETCEL_PG_BIN. */
const PG_BIN = process.env['JETCEL_PG_BIN'] ?? '/usr/lib/postgresql/15/bin';
const PG_USER = 'postgres';

export type PostgresStopMode = 'smart' | 'fast' | 'immediate';

export interface PostgresCluster {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` */
  readonly url: string;
  readonly port: number;
  /** The data dir (also the socket dir; the server log is `<dataDir>/log`). */
  readonly dataDir: string;
  /** Starts the server again (no-op if it is running); same port, same data. */
  start(): Promise<void>;
  /** Stops the server (default mode 'fast'; 'immediate' is a crash). No-op if it is stopped. */
  stop(mode?: PostgresStopMode): Promise<void>;
  /** stop() then start(). */
  restart(mode?: PostgresStopMode): Promise<void>;
  /** Whether the server is running (`pg_ctl status`). */
  isRunning(): Promise<boolean>;
  /** The server log so far. */
  log(): Promise<string>;
  /** Stops the server (immediate) and removes the data dir. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Creates and starts a private PostgreSQL 15 cluster (trust auth, user
 * postgres) on 127.0.0.1 and a free port, for outage tests: stop() and start()
 * it while the code under test keeps running. initdb and pg_ctl run as the
 * postgres user (through runuser when this process is root). If the test
 * process exits, the server is stopped and its data dir removed.
 */
export async function startPostgresCluster(): Promise<PostgresCluster> {
  const dataDir = await mkdtemp(join(tmpdir(), 'jetcel-pg-'));
  const port = await freePort();
  const logFile = join(dataDir, 'log');
  const asPostgres = (tool: string, args: string[]): [string, string[]] => {
    const binary = join(PG_BIN, tool);
    return process.getuid?.() === 0 ? ['runuser', ['-u', PG_USER, '--', binary, ...args]] : [binary, args];
  };
  const pgCtl = (args: string[]): [string, string[]] => asPostgres('pg_ctl', ['-D', dataDir, ...args]);
  const options = { cwd: dataDir, timeoutMs: 60_000 };

  const isRunning = async (): Promise<boolean> => (await runCommand(...pgCtl(['status']), options)).code === 0;
  const start = async (): Promise<void> => {
    if (await isRunning()) return;
    const serverOptions = `-p ${port} -k ${dataDir} -c listen_addresses=127.0.0.1 -F`;
    await runOrThrow(...pgCtl(['-o', serverOptions, '-l', logFile, '-w', '-t', '30', 'start']), options).catch(
      async (error: unknown) => {
        const log = await readFile(logFile, 'utf8').catch(() => '');
        throw new Error(`${error instanceof Error ? error.message : String(error)}\n--- server log ---\n${log}`);
      },
    );
  };
  const stop = async (mode: PostgresStopMode = 'fast'): Promise<void> => {
    if (!(await isRunning())) return;
    await runOrThrow(...pgCtl(['-m', mode, '-w', '-t', '30', 'stop']), options);
  };

  let untrack = (): void => {};
  try {
    if (process.getuid?.() === 0) await runOrThrow('chown', [`${PG_USER}:${PG_USER}`, dataDir]);
    await runOrThrow(
      ...asPostgres('initdb', ['-D', dataDir, '-A', 'trust', '-U', PG_USER, '-E', 'UTF8', '--locale=C', '--no-sync']),
      options,
    );
    untrack = trackCleanup(() => {
      const [file, args] = pgCtl(['-m', 'immediate', '-w', 'stop']);
      spawnSync(file, args, { cwd: dataDir, stdio: 'ignore', timeout: 10_000 });
      rmSync(dataDir, { recursive: true, force: true });
    });
    await start();
  } catch (error) {
    untrack();
    await runCommand(...pgCtl(['-m', 'immediate', 'stop']), options).catch(() => undefined);
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }

  return {
    url: `postgres://${PG_USER}@127.0.0.1:${port}/postgres`,
    port,
    dataDir,
    start,
    stop,
    async restart(mode?: PostgresStopMode) {
      await stop(mode);
      await start();
    },
    isRunning,
    log: () => readFile(logFile, 'utf8'),
    async [Symbol.asyncDispose]() {
      await stop('immediate');
      untrack();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
