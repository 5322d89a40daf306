import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';

const packageDir = fileURLToPath(new URL('..', import.meta.url));

test('main.ts starts as a process, prints its listening line and stops on SIGTERM', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: packageDir,
    env: { ...process.env, CLOUD_PORT: '0', CLOUD_HOST: '127.0.0.1', CLOUD_BUILD_DELAY_MS: '10' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = once(child, 'exit');
  try {
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const line = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no listening line after 10 s; stderr: ${stderr}`)), 10_000);
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        const newline = stdout.indexOf('\n');
        if (newline >= 0) {
          clearTimeout(timer);
          resolve(stdout.slice(0, newline));
        }
      });
      child.once('exit', (code) => reject(new Error(`exited with ${String(code)}; stderr: ${stderr}`)));
    });
    const match = /^cloud listening on (http:\/\/127\.0\.0\.1:(\d+))$/.exec(line);
    assert.ok(match, `unexpected line: ${line}`);
    assert.notEqual(Number(match[2]), 0);
    const health = await fetch(`${match[1] ?? ''}/health`);
    assert.deepEqual(await health.json(), { ok: true });

    child.kill('SIGTERM');
    const [code] = (await exited) as [number | null];
    assert.equal(code, 0);
    assert.equal(stdout, `${line}\n`);
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
});
