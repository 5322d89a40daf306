import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { WORKER_NODE_FLAGS, workerNodeFlags } from '../src/ipc.ts';

const composeFile = resolve(dirname(fileURLToPath(import.meta.url)), '../../../compose.yaml');
const compose = parse(readFileSync(composeFile, 'utf8'), { merge: true }) as {
  services: Record<string, { command?: string[] }>;
};

test("the bench's jetcel workers run with the V8 options compose.yaml gives every worker", () => {
  const commands = Object.values(compose.services)
    .map((service) => service.command ?? [])
    .filter((command) => command.includes('services/worker/dist/main.js'));
  assert.equal(commands.length, 3, 'worker-regular, worker-heavy and worker-background');
  for (const command of commands)
    assert.deepEqual(command.slice(1, command.indexOf('services/worker/dist/main.js')), WORKER_NODE_FLAGS);
});

test('BENCH_NODE_FLAGS replaces the options for an experiment; empty means V8 defaults', () => {
  assert.deepEqual(workerNodeFlags({}), WORKER_NODE_FLAGS);
  assert.deepEqual(workerNodeFlags({ BENCH_NODE_FLAGS: '' }), []);
  assert.deepEqual(workerNodeFlags({ BENCH_NODE_FLAGS: '--max-semi-space-size=2  --expose-gc' }), [
    '--max-semi-space-size=2',
    '--expose-gc',
  ]);
});
