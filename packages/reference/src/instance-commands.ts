import { z } from 'zod';
import { commandSubject, querySubject } from '@jetcel/contracts';
import { RESOURCE_STATES, ValidationError, type ExecutorDefinition } from '@jetcel/core';
import { defineCommand, defineQuery } from '@jetcel/runtime';
import { attachTo } from './authorization.ts';
import { byId, load, requireCloudSettings, runOn, slug } from './command-helpers.ts';
import {
  instanceDeleteExecutor,
  instancePullExecutor,
  instanceRenameExecutor,
  instanceResizeExecutor,
  instanceStartExecutor,
  instanceStopExecutor,
  type InstanceCreateParams,
} from './instance-executors.ts';
import { instanceView } from './views.ts';

export const createInstanceInput = z.strictObject({
  name: slug,
  cloudSettingsId: slug,
  flavor: slug.optional(),
  projectId: z.uuid().optional(),
  volumes: z
    .array(z.strictObject({ name: slug, size: z.number().int().min(1).max(16_384) }))
    .max(16)
    .optional(),
});

const noActor = { executionId: null };

export function instanceCommands(create: ExecutorDefinition<InstanceCreateParams>) {
  return [
    defineCommand({
      subject: commandSubject('instance', 'create'),
      input: createInstanceInput,
      async handle(ctx, input) {
        await requireCloudSettings(ctx, input.cloudSettingsId);
        if (input.projectId) await ctx.authorize(attachTo('project'), await load(ctx, 'project', input.projectId));
        const context = { ...noActor, actor: ctx.actor };
        const instance = await ctx.resources.insert(
          'instance',
          {
            name: input.name,
            cloudSettingsId: input.cloudSettingsId,
            flavor: input.flavor ?? 'small',
            projectId: input.projectId ?? null,
            owner: ctx.actor,
          },
          context,
        );
        const volumeIds: string[] = [];
        for (const volume of input.volumes ?? []) {
          const row = await ctx.resources.insert(
            'volume',
            {
              name: volume.name,
              size: volume.size,
              cloudSettingsId: input.cloudSettingsId,
              instanceId: instance.id,
              projectId: input.projectId ?? null,
              owner: ctx.actor,
            },
            context,
          );
          volumeIds.push(row.id);
        }
        return { ...(await runOn(ctx, instance, create, { volumeIds }, instanceView)), volumeIds };
      },
    }),
    defineCommand({
      subject: commandSubject('instance', 'rename'),
      input: z.strictObject({ id: z.uuid(), name: slug }),
      async handle(ctx, input) {
        const instance = await load(ctx, 'instance', input.id);
        if (instance.fields.name === input.name)
          throw new ValidationError('The instance already has this name; nothing to update');
        // Like Waldur's serializer save: the new value is stored now; the executor pushes it to the backend.
        const renamed = await ctx.resources.applyPatch(
          instance,
          { fields: { name: input.name } },
          { executionId: null, actor: ctx.actor },
        );
        return runOn(ctx, renamed ?? instance, instanceRenameExecutor, { updatedFields: ['name'] }, instanceView);
      },
    }),
    defineCommand({
      subject: commandSubject('instance', 'resize'),
      input: z.strictObject({ id: z.uuid(), flavor: slug }),
      async handle(ctx, input) {
        const instance = await load(ctx, 'instance', input.id);
        if (instance.fields.flavor === input.flavor)
          throw new ValidationError(`The instance already has flavor ${input.flavor}`);
        return runOn(ctx, instance, instanceResizeExecutor, { flavor: input.flavor }, instanceView);
      },
    }),
    defineCommand({
      subject: commandSubject('instance', 'start'),
      input: byId,
      handle: async (ctx, input) =>
        runOn(ctx, await load(ctx, 'instance', input.id), instanceStartExecutor, {}, instanceView),
    }),
    defineCommand({
      subject: commandSubject('instance', 'stop'),
      input: byId,
      handle: async (ctx, input) =>
        runOn(ctx, await load(ctx, 'instance', input.id), instanceStopExecutor, {}, instanceView),
    }),
    defineCommand({
      subject: commandSubject('instance', 'pull'),
      input: byId,
      async handle(ctx, input) {
        const instance = await load(ctx, 'instance', input.id);
        if (!instance.backendId) throw new ValidationError('The instance has no backend id to pull from');
        return runOn(ctx, instance, instancePullExecutor, {}, instanceView);
      },
    }),
    defineCommand({
      subject: commandSubject('instance', 'delete'),
      input: z.strictObject({ id: z.uuid(), force: z.boolean().optional() }),
      async handle(ctx, input) {
        const instance = await load(ctx, 'instance', input.id);
        // Waldur: a resource that is ERRED is deleted with force unless told otherwise.
        const force = input.force ?? instance.state === 'ERRED';
        return runOn(ctx, instance, instanceDeleteExecutor, { force }, instanceView);
      },
    }),
    defineQuery({
      subject: querySubject('instance', 'get'),
      input: byId,
      handle: async (ctx, input) => instanceView(ctx.read.shown(await load(ctx, 'instance', input.id))),
    }),
    defineQuery({
      subject: querySubject('instance', 'list'),
      input: z.strictObject({
        state: z.enum(RESOURCE_STATES).optional(),
        limit: z.number().int().min(1).max(500).optional(),
        offset: z.number().int().min(0).optional(),
      }),
      async handle(ctx, input) {
        // The caller's readable instances only, filtered in SQL so limit and offset count those.
        const { scope } = ctx.read;
        if (scope.kind === 'none') return { items: [] };
        const owned = scope.kind === 'owned' ? { owned: scope.owned } : {};
        const instances = await ctx.resources.list('instance', { ...input, ...owned });
        return { items: instances.map((instance) => instanceView(ctx.read.shown(instance))) };
      },
    }),
  ];
}
