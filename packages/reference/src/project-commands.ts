import { z } from 'zod';
import { commandSubject, querySubject } from '@jetcel/contracts';
import { defineCommand, defineQuery } from '@jetcel/runtime';
import { byId, load, runOn, slug } from './command-helpers.ts';
import { projectCleanupExecutor } from './project-executors.ts';
import { projectView } from './views.ts';

export function projectCommands() {
  return [
    defineCommand({
      subject: commandSubject('project', 'create'),
      input: z.strictObject({ name: slug }),
      async handle(ctx, input) {
        const context = { executionId: null, actor: ctx.actor };
        const project = await ctx.resources.insert('project', { name: input.name, owner: ctx.actor }, context);
        // A project has nothing at a backend to build: it is usable at once.
        const ready = await ctx.resources.applyPatch(project, { transition: 'set_ok' }, context);
        return projectView(ready ?? project);
      },
    }),
    defineCommand({
      subject: commandSubject('project', 'delete'),
      input: byId,
      async handle(ctx, input) {
        const project = await load(ctx, 'project', input.id);
        // The cleanup finds the project's instances and volumes when it runs, not now.
        return runOn(ctx, project, projectCleanupExecutor, {}, projectView);
      },
    }),
    defineQuery({
      subject: querySubject('project', 'get'),
      input: byId,
      handle: async (ctx, input) => projectView(ctx.read.shown(await load(ctx, 'project', input.id))),
    }),
  ];
}
