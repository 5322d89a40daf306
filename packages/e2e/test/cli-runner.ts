// Runs the jetcel CLI as a child process, the way an operator's shell does.
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const MAIN = resolve(root, 'packages/cli/src/main.ts');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliProcess {
  child: ChildProcess;
  /** Resolves once stderr has printed a line matching the pattern. */
  stderrLine(pattern: RegExp, timeoutMs?: number): Promise<void>;
  done: Promise<CliResult>;
}

export function startCli(args: string[], env: Record<string, string>, timeoutMs = 90_000): CliProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const watchers = new Set<() => void>();
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
    for (const watcher of watchers) watcher();
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const done = new Promise<CliResult>((resolveDone) =>
    child.on('close', (code) => {
      clearTimeout(timer);
      resolveDone({ code, stdout, stderr });
    }),
  );
  const stderrLine = (pattern: RegExp, waitMs = 60_000): Promise<void> =>
    new Promise((resolveLine, reject) => {
      const check = (): void => {
        if (!pattern.test(stderr)) return;
        watchers.delete(check);
        clearTimeout(giveUp);
        resolveLine();
      };
      const giveUp = setTimeout(() => {
        watchers.delete(check);
        reject(new Error(`no stderr line matching ${String(pattern)}; stderr: ${stderr}`));
      }, waitMs);
      watchers.add(check);
      check();
    });
  return { child, stderrLine, done };
}

export const runCli = (args: string[], env: Record<string, string>): Promise<CliResult> => startCli(args, env).done;

/** The stdout of a --json run, parsed. */
export function jsonOf<T = Record<string, unknown>>(result: CliResult): T {
  try {
    return JSON.parse(result.stdout) as T;
  } catch {
    throw new Error(`not JSON (exit ${String(result.code)}): ${result.stdout}\nstderr: ${result.stderr}`);
  }
}
