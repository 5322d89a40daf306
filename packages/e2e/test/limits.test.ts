import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { requestJson } from '@jetcel/bus';
import type { Reply } from '@jetcel/contracts';
import { signIdentityToken } from '@jetcel/identity';
import { Stack } from './stack.ts';

// The executor's request limits on the real stack: a rate per verified actor, and a cap on the
// requests one executor process handles at once.
const secret = 'e2e-limits-secret-of-at-least-32-chars';
// Promise.resolve: the same line whether signing is synchronous or not.
const as = async (actor: string) => ({
  Authorization: `Bearer ${await Promise.resolve(signIdentityToken({ actor, roles: [] }, secret))}`,
});

// one token every 2 s: the burst is spent before a token comes back, however busy the machine
const RATE = 0.5;
const BURST = 3;
const IN_FLIGHT = 4;

let stack: Stack;
before(async () => {
  stack = await Stack.start({
    env: {
      JETCEL_AUTH_SECRET: secret,
      JETCEL_AUTH_ANONYMOUS: 'deny',
      JETCEL_RATE_LIMIT_PER_SECOND: String(RATE),
      JETCEL_RATE_LIMIT_BURST: String(BURST),
      JETCEL_MAX_REQUESTS_IN_FLIGHT: String(IN_FLIGHT),
    },
  });
  await stack.spawn('executor');
});
after(async () => {
  await stack?.stop();
});

async function list(caller: Record<string, string> | Promise<Record<string, string>>): Promise<Reply> {
  const headers = await caller;
  return (await requestJson(stack.bus, 'query.instance.list', '{}', { timeoutMs: 10_000, headers })) as Reply;
}

function code(reply: Reply): string {
  return reply.ok ? 'OK' : reply.error.code;
}

test('an actor past its burst gets a retryable UNAVAILABLE with retryAfterMs; other actors are served', async () => {
  const alice = await as('alice');
  const replies: Reply[] = [];
  for (let i = 0; i < BURST + 2; i++) replies.push(await list(alice));
  assert.deepEqual(replies.slice(0, BURST).map(code), Array<string>(BURST).fill('OK'));
  const limited = replies[BURST]!;
  assert.ok(!limited.ok, JSON.stringify(limited));
  assert.equal(limited.error.code, 'UNAVAILABLE');
  assert.equal(limited.error.retryable, true);
  const { retryAfterMs } = limited.error.details as { retryAfterMs: number };
  assert.ok(retryAfterMs > 0 && retryAfterMs <= 1000 / RATE, `retryAfterMs ${retryAfterMs}`);

  assert.equal(code(await list(as('bob'))), 'OK', 'another actor has its own bucket');
  await new Promise((resolve) => setTimeout(resolve, 1000 / RATE + 50));
  assert.equal(code(await list(alice)), 'OK', 'served again after retryAfterMs');
});

test(`beyond ${IN_FLIGHT} requests in flight, the next is answered UNAVAILABLE at once`, async () => {
  // Requests that wait on a table lock stay in flight until it is released.
  const blocker = await stack.pool.connect();
  const held: Array<Promise<Reply>> = [];
  try {
    await blocker.query('begin');
    await blocker.query('lock table ref_instance in access exclusive mode');
    for (let i = 0; i < IN_FLIGHT; i++) held.push(list(as(`held-${i}`)));
    await new Promise((resolve) => setTimeout(resolve, 500));
    const started = performance.now();
    const refused = await list(as('late'));
    const ms = performance.now() - started;
    assert.ok(!refused.ok, JSON.stringify(refused));
    assert.equal(refused.error.code, 'UNAVAILABLE');
    assert.equal(refused.error.retryable, true);
    assert.ok(ms < 1000, `answered in ${Math.round(ms)} ms`);
  } finally {
    await blocker.query('rollback');
    blocker.release();
  }
  assert.deepEqual((await Promise.all(held)).map(code), Array<string>(IN_FLIGHT).fill('OK'));
  assert.equal(code(await list(as('late'))), 'OK', 'served once the others finished');
});
