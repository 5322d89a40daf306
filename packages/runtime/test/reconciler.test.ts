import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { HEADERS } from '@jetcel/contracts';
import { silentLogger, type Plan } from '@jetcel/core';
import { queryRows } from '@jetcel/testing';
import { Reconciler } from '../src/reconcile/reconciler.ts';
import { useTestDb } from './db-fixture.ts';

const env = useTestDb();

const plan: Plan = {
  v: 2,
  executor: 'test',
  steps: [{ task: 'noop' }],
  onSuccess: [{ task: 'jetcel.set_ok' }],
  onFailure: [{ task: 'jetcel.set_erred' }],
};

/** A step claimed by a holder that died: its claim expired a while ago. */
async function abandonedStep(): Promise<string> {
  const executionId = randomUUID();
  const stepId = randomUUID();
  await env.db.transaction(async (tx) => {
    await tx.executions.create({
      id: executionId,
      executor: 'test',
      resourceType: 'widget',
      resourceId: randomUUID(),
      plan,
      params: {},
      actor: 'alice',
    });
    await tx.steps.insert({
      id: stepId,
      executionId,
      role: 'main',
      position: 0,
      task: 'noop',
      queue: 'regular',
      args: null,
      resourceRef: null,
      before: null,
      ignoreErrors: false,
      notBefore: null,
    });
  });
  await env.db.transaction((tx) => tx.steps.claim(stepId, { token: randomUUID(), worker: 'dead', ttlMs: 50 }));
  await new Promise((resolve) => setTimeout(resolve, 150));
  return stepId;
}

const stepStatus = async (stepId: string) =>
  (await queryRows<{ status: string }>(env.database.url, 'select status from jetcel_step where id = $1', [stepId]))[0]
    ?.status;

const messagesFor = async (stepId: string) =>
  (
    await queryRows<{ payload: string; headers: Record<string, string> }>(
      env.database.url,
      "select payload, headers from jetcel_outbox where payload::jsonb ->> 'stepId' = $1",
      [stepId],
    )
  ).map((row) => ({ message: JSON.parse(row.payload) as { stepId: string; task: string }, headers: row.headers }));

test('a re-queued step and the outbox row that re-publishes it commit together, or not at all', async () => {
  const stepId = await abandonedStep();
  const before = (await messagesFor(stepId)).length;
  const reconciler = new Reconciler(env.db, { logger: silentLogger, claimGraceMs: 10 });
  // The outbox refuses every row (a failure between the re-queue and its message).
  await queryRows(
    env.database.url,
    `create function refuse_outbox() returns trigger language plpgsql as $$ begin raise exception 'outbox refused'; end $$;
     create trigger refuse_outbox before insert on jetcel_outbox for each row execute function refuse_outbox()`,
  );
  try {
    await assert.rejects(reconciler.steps(), /outbox refused/);
    assert.equal(await stepStatus(stepId), 'running', 'not re-queued without its message');
  } finally {
    await queryRows(env.database.url, 'drop trigger refuse_outbox on jetcel_outbox; drop function refuse_outbox()');
  }
  await reconciler.steps();
  assert.equal(await stepStatus(stepId), 'queued');
  const messages = await messagesFor(stepId);
  assert.equal(messages.length, before + 1, 'one new message');
  assert.equal(messages.at(-1)?.message.task, 'noop');
  assert.equal(messages.at(-1)?.headers[HEADERS.actor], 'alice', "on behalf of the execution's actor");
});
