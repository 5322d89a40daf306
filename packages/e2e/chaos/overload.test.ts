// Load is bounded: a flood of oversized requests (the size is in the headers, the body is tiny)
// is refused without being read, the executor's memory stays bounded, and a normal command from
// another caller is still answered promptly.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { requestJson } from '@jetcel/bus';
import { MAX_COMMAND_BYTES, type Reply } from '@jetcel/contracts';
import { signIdentityToken } from '@jetcel/identity';
import type { ServiceProcess } from '@jetcel/testing';
import { Stack } from '../test/stack.ts';
import {
  RawNats,
  envelopeProblem,
  headerBlock,
  isRunning,
  log,
  parseReply,
  rssKiB,
  type RawReply,
} from './fuzz-support.ts';

const secret = 'chaos-overload-secret-of-at-least-32-chars';
const REQUESTS = 1000;
const MAX_RSS_MIB = 250;
const MAX_COMMAND_MS = 2000;

let stack: Stack;
let executor: ServiceProcess;
let raw: RawNats;
before(async () => {
  stack = await Stack.start({ env: { JETCEL_AUTH_SECRET: secret, JETCEL_AUTH_ANONYMOUS: 'deny' } });
  executor = await stack.spawn('executor');
  raw = await RawNats.connect(stack.nats.url);
});
after(async () => {
  raw?.close();
  await stack?.stop();
});

test(`${REQUESTS} concurrent oversized-header requests: RSS under ${MAX_RSS_MIB} MB, another caller answered within ${MAX_COMMAND_MS} ms`, async () => {
  // Promise.resolve: the same line whether signing is synchronous or not.
  const sign = (actor: string) => Promise.resolve(signIdentityToken({ actor, roles: [] }, secret));
  const mallory = `Bearer ${await sign('mallory')}`;
  const bob = { Authorization: `Bearer ${await sign('bob')}` };
  // A header block a little over the limit, a valid body: only the sum is too large.
  const headers = headerBlock([
    ['Authorization', mallory],
    ['X-Padding', 'p'.repeat(MAX_COMMAND_BYTES)],
  ]);
  const body = Buffer.from(JSON.stringify({ name: 'flood' }));
  const rss = { start: rssKiB(executor.pid), peak: 0 };
  const sampler = setInterval(() => (rss.peak = Math.max(rss.peak, rssKiB(executor.pid))), 20);
  try {
    const flood: Array<Promise<RawReply | undefined>> = [];
    for (let i = 0; i < REQUESTS; i++) flood.push(raw.request('cmd.project.create', body, headers, 30_000));
    const started = performance.now();
    const reply = (await requestJson(
      stack.bus,
      'cmd.project.create',
      { name: 'bob-during-flood' },
      {
        headers: bob,
        timeoutMs: 10_000,
      },
    )) as Reply;
    const commandMs = performance.now() - started;
    const replies = await Promise.all(flood);
    rss.peak = Math.max(rss.peak, rssKiB(executor.pid));

    const codes: Record<string, number> = {};
    for (const each of replies) {
      assert.equal(envelopeProblem(each), undefined);
      const envelope = parseReply(each!);
      const code = envelope.ok ? 'OK' : envelope.error.code;
      codes[code] = (codes[code] ?? 0) + 1;
    }
    log('overload', { commandMs: Math.round(commandMs), rssKiB: rss, codes });
    assert.deepEqual(
      Object.keys(codes).filter((code) => code !== 'PAYLOAD_TOO_LARGE' && code !== 'UNAVAILABLE'),
      [],
    );
    assert.ok(reply.ok, JSON.stringify(reply));
    assert.ok(commandMs < MAX_COMMAND_MS, `bob's command took ${Math.round(commandMs)} ms`);
    assert.ok(rss.peak < MAX_RSS_MIB * 1024, `executor RSS peaked at ${Math.round(rss.peak / 1024)} MiB`);
    assert.ok(isRunning(executor), 'the executor is still running');
    const [row] = await stack.sql<{ n: string }>("select count(*) as n from ref_project where name = 'flood'");
    assert.equal(Number(row?.n), 0, 'no oversized request was run');
  } finally {
    clearInterval(sampler);
  }
});
