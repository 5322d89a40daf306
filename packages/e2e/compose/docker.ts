import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';

const exec = promisify(execFile);

/** Debian's docker client first: a client-only binary elsewhere on PATH may shadow it. */
export const DOCKER = process.env.DOCKER ?? (existsSync('/usr/bin/docker') ? '/usr/bin/docker' : 'docker');

export interface Run {
  stdout: string;
  stderr: string;
}

/** Runs a command; rejects with its output on a non-zero exit. */
export async function run(
  file: string,
  args: string[],
  options: { cwd?: string; env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<Run> {
  try {
    return await exec(file, args, {
      ...(options.cwd ? { cwd: options.cwd } : {}),
      env: { ...process.env, ...options.env },
      timeout: options.timeoutMs ?? 120_000,
      maxBuffer: 64 * 2 ** 20,
    });
  } catch (err) {
    const failed = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(
      `${file} ${args.join(' ')} failed: ${failed.message}\n${failed.stdout ?? ''}\n${failed.stderr ?? ''}`,
      { cause: err },
    );
  }
}

/** True when a docker daemon answers. */
export async function dockerAnswers(): Promise<boolean> {
  try {
    await run(DOCKER, ['info', '--format', '{{.ServerVersion}}'], { timeoutMs: 15_000 });
    return true;
  } catch {
    return false;
  }
}

/** `docker compose` (v2) when the plugin is there, else Compose v1 (`docker-compose`). */
export async function composeCommand(): Promise<string[]> {
  try {
    await run(DOCKER, ['compose', 'version'], { timeoutMs: 15_000 });
    return [DOCKER, 'compose'];
  } catch {
    for (const path of ['/usr/bin/docker-compose', '/usr/local/bin/docker-compose'])
      if (existsSync(path)) return [path];
    throw new Error('neither `docker compose` nor docker-compose is installed');
  }
}

export async function imageExists(tag: string): Promise<boolean> {
  try {
    await run(DOCKER, ['image', 'inspect', tag], { timeoutMs: 15_000 });
    return true;
  } catch {
    return false;
  }
}

/** Polls `probe` until it returns a value (not undefined) or `timeoutMs` passes. */
export async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  const reason = last instanceof Error ? `: ${last.message}` : '';
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${reason}`);
}
