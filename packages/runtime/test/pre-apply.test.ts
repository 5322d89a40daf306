import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import {
  builtinTasks,
  defineExecutor,
  silentLogger,
  step,
  TaskRegistry,
  type ExecutorDefinition,
  type ResourceSnapshot,
} from '@jetcel/core';
import { queryRows } from '@jetcel/testing';
import { Progress } from '../src/execution/progress.ts';
import { scheduleExecution } from '../src/execution/schedule.ts';
import { useTestDb, WidgetNote } from './db-fixture.ts';
import { noop, widgetCreate } from './widget-executor.ts';

// An executor's own preApply hook, in the transaction that schedules it (real PostgreSQL): it runs
// after the built-in checks and transition, with what a command handler has, and its writes commit
// with the execution or not at all.

const env = useTestDb({ widgets: true });
const catalog = new TaskRegistry().register(...builtinTasks, noop);
const progress = new Progress({ catalog, executors: { get: () => undefined }, logger: silentLogger });

/** An action on a widget whose preApply notes it, marks its partner UPDATE_SCHEDULED and creates a third widget. */
const pairAction = (options: { refuse?: boolean } = {}) =>
  defineExecutor<{ partner: string }>({
    name: 'widget.pair',
    kind: 'action',
    action: 'Pair',
    resourceType: 'widget',
    tasks: [noop],
    steps: () => [step(noop)],
    async preApply(ctx) {
      assert.equal(ctx.resource.state, 'UPDATE_SCHEDULED', 'the built-in transition ran first');
      assert.equal(ctx.resource.action, 'Pair');
      ctx.em.persist(ctx.em.create(WidgetNote, { id: randomUUID(), widgetId: ctx.resource.id, text: ctx.executor }));
      await ctx.em.flush();
      const partner = await ctx.resources.get('widget', ctx.params.partner, { forUpdate: true });
      assert.ok(partner);
      await ctx.resources.applyPatch(
        partner,
        { transition: 'schedule_updating', action: 'Paired' },
        { executionId: ctx.executionId, actor: ctx.actor },
      );
      const third = await ctx.resources.insert('widget', { name: 'third' }, { executionId: null, actor: ctx.actor });
      const scheduled = await ctx.schedule(widgetCreate, third, {});
      assert.equal(scheduled.kind, 'scheduled');
      if (options.refuse) throw new Error('the partner may not pair');
    },
  });

async function okWidget(name: string): Promise<ResourceSnapshot> {
  return env.db.transaction(async (tx) => {
    const inserted = await tx.resources.insert('widget', { name }, { executionId: null, actor: null });
    const ok = await tx.resources.applyPatch(inserted, { transition: 'set_ok' }, { executionId: null, actor: null });
    assert.ok(ok);
    return ok;
  });
}

async function schedule(
  executor: ExecutorDefinition<{ partner: string }>,
  resource: ResourceSnapshot,
  partner: string,
) {
  return env.db.transaction((tx) =>
    scheduleExecution(tx, progress, executor, { resource, params: { partner }, actor: 'alice' }),
  );
}

const count = async (sql: string, params: unknown[]): Promise<number> =>
  Number((await queryRows<{ n: string }>(env.database.url, sql, params))[0]?.n ?? 0);

test('preApply runs in the scheduling transaction after the built-in transition: its writes and schedules commit with the execution', async () => {
  const [widget, partner] = [await okWidget('one'), await okWidget('partner')];
  const scheduled = await schedule(pairAction(), widget, partner.id);
  assert.equal(scheduled.kind, 'scheduled');
  const marked = await env.db.read((tx) => tx.resources.get('widget', partner.id));
  assert.deepEqual([marked?.state, marked?.action], ['UPDATE_SCHEDULED', 'Paired']);
  assert.equal(await count('select count(*) as n from test_widget_note where widget_id = $1', [widget.id]), 1);
  assert.equal(
    await count("select count(*) as n from jetcel_execution where executor = 'widget.create' and actor = 'alice'", []),
    1,
    'the executor it scheduled is stored, for the same actor',
  );
  assert.equal(
    await count(
      "select count(*) as n from jetcel_outbox where subject like 'events.widget.' || $2 || '.%' and payload like $1",
      [`%"executionId":"${scheduled.kind === 'scheduled' ? scheduled.executionId : ''}"%`, partner.id],
    ),
    1,
    "the partner's transition is recorded for the execution",
  );
});

test('a preApply that throws refuses the execution: nothing it or the built-in checks wrote is kept', async () => {
  const [widget, partner] = [await okWidget('two'), await okWidget('partner-two')];
  const executions = await count('select count(*) as n from jetcel_execution', []);
  await assert.rejects(schedule(pairAction({ refuse: true }), widget, partner.id), /may not pair/);
  const [after, partnerAfter] = await env.db.read(async (tx) => [
    await tx.resources.get('widget', widget.id),
    await tx.resources.get('widget', partner.id),
  ]);
  assert.deepEqual([after?.state, partnerAfter?.state], ['OK', 'OK']);
  assert.equal(await count('select count(*) as n from test_widget_note where widget_id = $1', [widget.id]), 0);
  assert.equal(await count('select count(*) as n from jetcel_execution', []), executions);
});

test('preApply is not run when the built-in checks refuse or make the call a noop', async () => {
  const [widget, partner] = [await okWidget('three'), await okWidget('partner-three')];
  let ran = 0;
  const counted = defineExecutor<{ partner: string }>({
    ...pairAction(),
    preApply: () => void (ran += 1),
  });
  const creating = await env.db.transaction((tx) =>
    tx.resources.insert('widget', { name: 'new' }, { executionId: null, actor: null }),
  );
  await assert.rejects(schedule(counted, creating, partner.id), /not OK or ERRED/);
  const first = await schedule(counted, widget, partner.id);
  assert.equal(first.kind, 'scheduled');
  const again = await env.db.read((tx) => tx.resources.get('widget', widget.id));
  assert.ok(again);
  assert.equal((await schedule(counted, again, partner.id)).kind, 'noop', 'an action on an UPDATE_SCHEDULED widget');
  assert.equal(ran, 1);
});
