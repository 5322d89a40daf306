import { z } from 'zod';
import { commandSubject, querySubject } from '@jetcel/contracts';
import { ValidationError } from '@jetcel/core';
import { defineCommand, defineQuery } from '@jetcel/runtime';
import { attachTo } from './authorization.ts';
import { byId, load, requireCloudSettings, runOn, slug } from './command-helpers.ts';
import { volumeCreateExecutor, volumeDeleteExecutor, volumeExtendExecutor } from './volume-executors.ts';
import { volumeView } from './views.ts';
import { volumeFields } from './fields.ts';

export function volumeCommands() {
  return [
    defineCommand({
      subject: commandSubject('volume', 'create'),
      input: z.strictObject({
        name: slug,
        cloudSettingsId: slug,
        size: z.number().int().min(1).max(16_384),
        instanceId: z.uuid().optional(),
      }),
      async handle(ctx, input) {
        await requireCloudSettings(ctx, input.cloudSettingsId);
        if (input.instanceId) await ctx.authorize(attachTo('instance'), await load(ctx, 'instance', input.instanceId));
        const volume = await ctx.resources.insert(
          'volume',
          {
            name: input.name,
            cloudSettingsId: input.cloudSettingsId,
            size: input.size,
            instanceId: input.instanceId ?? null,
            projectId: null,
            owner: ctx.actor,
          },
          { executionId: null, actor: ctx.actor },
        );
        return runOn(ctx, volume, volumeCreateExecutor, {}, volumeView);
      },
    }),
    defineCommand({
      subject: commandSubject('volume', 'extend'),
      input: z.strictObject({ id: z.uuid(), size: z.number().int().min(1).max(16_384) }),
      async handle(ctx, input) {
        const volume = await load(ctx, 'volume', input.id);
        const { size } = volumeFields.parse(volume.fields);
        if (input.size <= size) throw new ValidationError(`A volume can only grow: it is ${size} GiB`);
        return runOn(ctx, volume, volumeExtendExecutor, { size: input.size }, volumeView);
      },
    }),
    defineCommand({
      subject: commandSubject('volume', 'delete'),
      input: z.strictObject({ id: z.uuid(), force: z.boolean().optional() }),
      async handle(ctx, input) {
        const volume = await load(ctx, 'volume', input.id);
        return runOn(ctx, volume, volumeDeleteExecutor, { force: input.force ?? volume.state === 'ERRED' }, volumeView);
      },
    }),
    defineQuery({
      subject: querySubject('volume', 'get'),
      input: byId,
      handle: async (ctx, input) => volumeView(ctx.read.shown(await load(ctx, 'volume', input.id))),
    }),
  ];
}
