import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { executionRow, firstStepRow, setupDb } from './fixture.ts';

let env: Awaited<ReturnType<typeof setupDb>>;
before(async () => {
  env = await setupDb();
});
after(async () => {
  await env.close();
});

const ctx = { executionId: null, actor: null };

/** A widget and a queued first step on it, inserted together with its execution. */
async function stepOnNewWidget(): Promise<{ stepId: string; widgetId: string }> {
  return env.db.transaction(async (tx) => {
    const widget = await tx.resources.insert('widget', { label: 'claimed' }, ctx);
    const executionId = randomUUID();
    const { step } = await tx.executions.createWithStep(
      executionRow(executionId, widget.id),
      firstStepRow(executionId, `widget:${widget.id}`),
    );
    return { stepId: step.id, widgetId: widget.id };
  });
}

const input = () => ({ token: randomUUID(), worker: 'w', ttlMs: 30_000 });

test('a claim given its message resource reads that row in the same statement', async () => {
  const { stepId, widgetId } = await stepOnNewWidget();
  const claim = await env.db.claimStep(stepId, input(), `widget:${widgetId}`);
  assert.equal(claim.kind, 'claimed');
  const read = await env.db.read((tx) => tx.resources.get('widget', widgetId));
  assert.ok(read);
  assert.deepEqual(claim.kind === 'claimed' ? claim.resource : undefined, read);
  assert.equal(claim.kind === 'claimed' ? claim.step.resourceRef : '', `widget:${widgetId}`);
});

test('a message naming another resource, an unknown type or a malformed id gets the claim without a row', async () => {
  const other = await stepOnNewWidget();
  for (const named of [`widget:${other.widgetId}`, `gadget:${randomUUID()}`, 'widget:1; drop table widget', 'widget']) {
    const { stepId } = await stepOnNewWidget();
    const claim = await env.db.claimStep(stepId, input(), named);
    assert.equal(claim.kind, 'claimed', named);
    assert.equal(claim.kind === 'claimed' ? claim.resource : 'not claimed', undefined, named);
  }
});

test('a resource deleted before the claim is left to the step preparation to report', async () => {
  const { stepId, widgetId } = await stepOnNewWidget();
  await env.db.transaction(async (tx) => {
    const widget = await tx.resources.get('widget', widgetId);
    assert.ok(widget);
    await tx.resources.applyPatch(widget, { delete: true }, ctx);
  });
  const claim = await env.db.claimStep(stepId, input(), `widget:${widgetId}`);
  assert.equal(claim.kind, 'claimed');
  assert.equal(claim.kind === 'claimed' ? claim.resource : 'not claimed', undefined);
});

test('a claim that finds its step finished answers as without a resource', async () => {
  const { stepId, widgetId } = await stepOnNewWidget();
  const first = await env.db.claimStep(stepId, input(), `widget:${widgetId}`);
  assert.equal(first.kind, 'claimed');
  const again = await env.db.claimStep(stepId, input(), `widget:${widgetId}`);
  assert.equal(again.kind, 'live_claim');
});
