// Compiled by `pnpm typecheck`, never run: an executor's preApply gets what a command handler has, not the framework's stores.
import { defineExecutor } from '@jetcel/core';
import '../src/index.ts';

export const hooked = defineExecutor<{ size: number }>({
  name: 'thing.grow',
  kind: 'action',
  resourceType: 'thing',
  tasks: [],
  steps: () => [],
  async preApply(ctx) {
    const size: number = ctx.params.size;
    const other = await ctx.resources.get('thing', ctx.resource.id, { forUpdate: true });
    if (other) await ctx.resources.applyPatch(other, { transition: 'schedule_updating' }, ctx);
    await ctx.records.exists('thing_settings', ctx.resource.id);
    await ctx.em.count('Thing', {});
    await ctx.schedule(hooked, ctx.resource, { size });
    await ctx.enqueue({ task: 'thing.pull', resource: `thing:${ctx.resource.id}` });
    // @ts-expect-error the transaction (and every framework store on it) is not in the hook's context
    void ctx.tx;
    // @ts-expect-error no outbox
    void ctx.outbox;
    // @ts-expect-error no steps
    void ctx.steps;
    // @ts-expect-error no raw connection
    void ctx.em.getConnection;
  },
});
