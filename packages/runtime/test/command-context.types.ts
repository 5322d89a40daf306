// Compiled by `pnpm typecheck`, never run: a command handler's context keeps the framework's stores out of reach.
import { defineCommand, type CommandContext } from '../src/index.ts';

export const reachable = defineCommand<{ id: string }>({
  subject: 'cmd.thing.touch',
  input: { parse: (value) => value as { id: string } },
  async handle(ctx: CommandContext, input) {
    const resource = await ctx.resources.get('thing', input.id, { forUpdate: true });
    const settings = await ctx.records.exists('thing_settings', input.id);
    // @ts-expect-error the transaction (and every framework store on it) is not in a command's context
    void ctx.tx;
    // @ts-expect-error no outbox: a command publishes only through what it schedules
    void ctx.outbox;
    // @ts-expect-error no steps
    void ctx.steps;
    // @ts-expect-error no throttle
    void ctx.throttle;
    // @ts-expect-error the resources are the domain's reads and writes, not the store behind them
    void ctx.resources.ownedByCondition;
    // The domain's entities through the unit of work, but not the connection or the unit of work itself.
    const things = await ctx.em.count('Thing', {});
    // @ts-expect-error no raw connection: jetcel's tables stay behind the entity manager's checks
    void ctx.em.getConnection;
    // @ts-expect-error no unit of work: the outbox rides its flushes
    void ctx.em.getUnitOfWork;
    // @ts-expect-error no fork: a fork would leave the command's transaction
    void ctx.em.fork;
    return { resource, settings, things, actor: ctx.actor };
  },
});
