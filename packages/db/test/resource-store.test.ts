import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { IllegalTransitionError } from '@jetcel/core';
import { ConcurrentUpdateError } from '../src/errors.ts';
import { queryRows } from '@jetcel/testing';
import { setupDb } from './fixture.ts';

const ctx = { executionId: null, actor: 'tester' };
let env: Awaited<ReturnType<typeof setupDb>>;
before(async () => {
  env = await setupDb();
});
after(async () => {
  await env.close();
});

test('insert starts CREATION_SCHEDULED and writes a state_changed event to the outbox', async () => {
  const widget = await env.db.transaction((tx) => tx.resources.insert('widget', { label: 'a' }, ctx));
  assert.equal(widget.state, 'CREATION_SCHEDULED');
  assert.equal(widget.version, 1);
  assert.deepEqual(widget.fields, { label: 'a' });
  const events = await env.db.transaction(async (tx) => tx.recordGet('jetcel_outbox', (await outboxIds(env))[0] ?? ''));
  assert.ok(events);
  assert.equal(events.subject, `events.widget.${widget.id}.state_changed`);
  const body = JSON.parse(String(events.payload));
  assert.equal(body.to, 'CREATION_SCHEDULED');
  assert.equal(body.actor, 'tester');
});

test('insert answers the row as a later read sees it, in one statement', async () => {
  const inserted = await env.db.transaction((tx) => tx.resources.insert('widget', { label: 'same' }, ctx));
  const read = await env.db.transaction((tx) => tx.resources.get('widget', inserted.id));
  assert.deepEqual(inserted, read);
});

test('insertMany answers, in input order, the rows a later read sees, each with its own state_changed event', async () => {
  const labels = ['many-1', 'many-2', 'many-3'];
  const inserted = await env.db.transaction((tx) =>
    tx.resources.insertMany(
      'widget',
      labels.map((label) => ({ label })),
      ctx,
    ),
  );
  assert.deepEqual(
    inserted.map((widget) => widget.fields.label),
    labels,
  );
  const read = await env.db.read((tx) => Promise.all(inserted.map((widget) => tx.resources.get('widget', widget.id))));
  assert.deepEqual(inserted, read);
  const events = await queryRows<{ subject: string; payload: string }>(
    env.database.url,
    'select subject, payload from jetcel_outbox where subject = any($1) order by subject',
    [inserted.map((widget) => `events.widget.${widget.id}.state_changed`)],
  );
  assert.deepEqual(
    events.map((event) => event.subject),
    inserted.map((widget) => `events.widget.${widget.id}.state_changed`).sort(),
    'one event per row',
  );
  assert.ok(events.every((event) => JSON.parse(event.payload).to === 'CREATION_SCHEDULED'));
  assert.deepEqual(await env.db.transaction((tx) => tx.resources.insertMany('widget', [], ctx)), []);
});

test('insertMany writes nothing when one of its rows is refused', async () => {
  const taken = await env.db.transaction((tx) => tx.resources.insert('widget', { label: 'taken' }, ctx));
  await assert.rejects(
    env.db.read((tx) => tx.resources.insertMany('widget', [{ label: 'fresh' }, { id: taken.id, label: 'dup' }], ctx)),
  );
  const fresh = await queryRows(env.database.url, "select id from test_widget where label = 'fresh'");
  assert.deepEqual(fresh, [], 'the row before the refused one is not kept: one statement');
});

test('A1: an illegal transition names the transition and the state, and writes nothing', async () => {
  const widget = await env.db.transaction((tx) => tx.resources.insert('widget', { label: 'b' }, ctx));
  await assert.rejects(
    env.db.transaction((tx) => tx.resources.applyPatch(widget, { transition: 'begin_updating' }, ctx)),
    (error: unknown) =>
      error instanceof IllegalTransitionError &&
      /begin_updating/.test(error.message) &&
      /CREATION_SCHEDULED/.test(error.message),
  );
  const again = await env.db.transaction((tx) => tx.resources.get('widget', widget.id));
  assert.equal(again?.version, 1);
});

test('A3: two concurrent writers from the same version never both win', async () => {
  const widget = await env.db.transaction((tx) => tx.resources.insert('widget', { label: 'c' }, ctx));
  const results = await Promise.allSettled([
    env.db.transaction((tx) => tx.resources.applyPatch(widget, { transition: 'begin_creating' }, ctx)),
    env.db.transaction((tx) => tx.resources.applyPatch(widget, { transition: 'set_erred', errorMessage: 'x' }, ctx)),
  ]);
  const won = results.filter((result) => result.status === 'fulfilled');
  const lost = results.filter((result): result is PromiseRejectedResult => result.status === 'rejected');
  assert.equal(won.length, 1);
  assert.equal(lost.length, 1);
  assert.ok(lost[0]?.reason instanceof ConcurrentUpdateError);
  const final = await env.db.transaction((tx) => tx.resources.get('widget', widget.id));
  assert.equal(final?.version, 2);
});

test('A2: set_erred writes both error fields; leaving ERRED clears them; ERRED to ERRED keeps them', async () => {
  let widget = await env.db.transaction((tx) => tx.resources.insert('widget', { label: 'd' }, ctx));
  widget = (await env.db.transaction((tx) =>
    tx.resources.applyPatch(widget, { transition: 'set_erred', errorMessage: 'boom', errorTraceback: 'trace' }, ctx),
  ))!;
  assert.equal(widget.errorMessage, 'boom');
  assert.equal(widget.errorTraceback, 'trace');
  widget = (await env.db.transaction((tx) => tx.resources.applyPatch(widget, { transition: 'set_erred' }, ctx)))!;
  assert.equal(widget.errorMessage, 'boom', 'ERRED to ERRED is not leaving ERRED');
  widget = (await env.db.transaction((tx) => tx.resources.applyPatch(widget, { transition: 'recover' }, ctx)))!;
  assert.equal(widget.state, 'OK');
  assert.equal(widget.errorMessage, '');
  assert.equal(widget.errorTraceback, '');
});

test('a delete writes a tombstone event and removes the row', async () => {
  const widget = await env.db.transaction((tx) => tx.resources.insert('widget', { label: 'e' }, ctx));
  const result = await env.db.transaction((tx) => tx.resources.applyPatch(widget, { delete: true }, ctx));
  assert.equal(result, null);
  assert.equal(await env.db.transaction((tx) => tx.resources.get('widget', widget.id)), null);
  const subjects = await env.db.transaction(async (tx) => {
    const ids = await outboxIds(env);
    const rows = await Promise.all(ids.map((id) => tx.recordGet('jetcel_outbox', id)));
    return rows.map((row) => String(row?.subject));
  });
  assert.ok(subjects.includes(`events.widget.${widget.id}.deleted`));
});

async function outboxIds(e: typeof env): Promise<string[]> {
  const rows = await queryRows<{ id: string }>(e.database.url, 'select id from jetcel_outbox order by created_at');
  return rows.map((row) => row.id);
}

test('an owner filter narrows list and counts in SQL, before limit and offset; a type without the field holds none', async () => {
  const [alice, bob] = [`alice-${Date.now()}`, `bob-${Date.now()}`];
  const inserted: string[] = [];
  for (const label of [alice, bob, alice, bob, bob])
    inserted.push((await env.db.transaction((tx) => tx.resources.insert('widget', { label }, ctx))).id);
  const owned = { field: 'label', owner: alice };
  await env.db.transaction(async (tx) => {
    const newest = await tx.resources.list('widget', { owned, limit: 1 });
    assert.deepEqual(
      newest.map((widget) => widget.id),
      [inserted[2]],
    );
    const second = await tx.resources.list('widget', { owned, limit: 1, offset: 1 });
    assert.deepEqual(
      second.map((widget) => widget.id),
      [inserted[0]],
    );
    assert.deepEqual(await tx.resources.countByState('widget', owned), { CREATION_SCHEDULED: 2 });
    assert.deepEqual(await tx.resources.list('widget', { owned: { field: 'owner', owner: alice } }), []);
    assert.deepEqual(await tx.resources.countByState('widget', { field: 'owner', owner: alice }), {});
    assert.deepEqual(tx.resources.ownedByCondition({ field: 'owner', owner: alice }), { text: 'false', params: [] });
    const condition = tx.resources.ownedByCondition(owned);
    assert.deepEqual(condition.params, ['widget', alice]);
  });
});
