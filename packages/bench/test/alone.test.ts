import assert from 'node:assert/strict';
import { test } from 'node:test';
import { alone } from '../src/alone.ts';
import type { BenchChild } from '../src/ipc.ts';

function child(pid: number, log: string[]): BenchChild {
  return {
    pid,
    call: () => Promise.reject(new Error('not used')),
    memory: () => ({ peakMiB: 0, rssMiB: 0 }),
    pause: () => void log.push(`pause ${pid}`),
    resume: () => void log.push(`resume ${pid}`),
    stop: () => Promise.resolve(),
  };
}

test('the other systems are paused for the phase and resumed after it; the measured one never', async () => {
  const log: string[] = [];
  const [a, b, c] = [child(1, log), child(2, log), child(3, log)];
  const result = await alone([b], [a, b, c], async () => {
    log.push('phase');
    return 42;
  });
  assert.equal(result, 42);
  assert.deepEqual(log, ['pause 1', 'pause 3', 'phase', 'resume 1', 'resume 3']);
});

test('a failing phase still resumes the others', async () => {
  const log: string[] = [];
  const [a, b] = [child(1, log), child(2, log)];
  await assert.rejects(
    alone([a], [a, b], () => Promise.reject(new Error('timed out'))),
    /timed out/,
  );
  assert.deepEqual(log, ['pause 2', 'resume 2']);
});
