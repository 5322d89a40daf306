import { z } from 'zod';
import { commandSubject, querySubject } from '@jetcel/contracts';
import {
  NotFoundError,
  ValidationError,
  RESOURCE_STATES,
  type ExecutorDefinition,
  type JsonObject,
} from '@jetcel/core';
import { defineCommand, defineQuery } from '@jetcel/runtime';
import { CLOUD_SETTINGS_TABLE } from './entities.ts';
import { instanceView } from './views.ts';

const slug = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'letters, digits, "_", "." and "-" only');

export const createInstanceInput = z.strictObject({
  name: slug,
  cloudSettingsId: slug,
  flavor: slug.optional(),
});

export function instanceCommands(executors: { create: ExecutorDefinition<JsonObject> }) {
  return [
    defineCommand({
      subject: commandSubject('instance', 'create'),
      input: createInstanceInput,
      async handle(ctx, input) {
        if (!(await ctx.tx.recordExists(CLOUD_SETTINGS_TABLE, input.cloudSettingsId))) {
          throw new ValidationError(`Unknown cloud settings "${input.cloudSettingsId}"`, { field: 'cloudSettingsId' });
        }
        const fields = { name: input.name, cloudSettingsId: input.cloudSettingsId, flavor: input.flavor ?? 'small' };
        const instance = await ctx.tx.resources.insert('instance', fields, { executionId: null, actor: ctx.actor });
        const scheduled = await ctx.schedule(executors.create, instance, {});
        return {
          ...instanceView(scheduled.resource),
          executionId: scheduled.kind === 'scheduled' ? scheduled.executionId : null,
        };
      },
    }),
    defineQuery({
      subject: querySubject('instance', 'get'),
      input: z.strictObject({ id: z.uuid() }),
      async handle(ctx, input) {
        const instance = await ctx.tx.resources.get('instance', input.id);
        if (!instance) throw new NotFoundError('Instance', input.id);
        return instanceView(instance);
      },
    }),
    defineQuery({
      subject: querySubject('instance', 'list'),
      input: z.strictObject({
        state: z.enum(RESOURCE_STATES).optional(),
        limit: z.number().int().min(1).max(500).optional(),
        offset: z.number().int().min(0).optional(),
      }),
      async handle(ctx, input) {
        const instances = await ctx.tx.resources.list('instance', input);
        return { items: instances.map(instanceView) };
      },
    }),
    defineCommand({
      subject: commandSubject('cloud_settings', 'create'),
      input: z.strictObject({ id: slug, name: z.string().min(1).max(255) }),
      async handle(ctx, input) {
        await ctx.tx.recordInsert(CLOUD_SETTINGS_TABLE, { id: input.id, name: input.name });
        return { id: input.id, name: input.name };
      },
    }),
  ];
}
