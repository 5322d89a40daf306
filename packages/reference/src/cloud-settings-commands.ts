import { z } from 'zod';
import { commandSubject } from '@jetcel/contracts';
import { ValidationError } from '@jetcel/core';
import { defineCommand, requireAdmin } from '@jetcel/runtime';
import { slug } from './command-helpers.ts';
import { CLOUD_SETTINGS_TABLE } from './entities.ts';

export function cloudSettingsCommands() {
  return [
    defineCommand({
      subject: commandSubject('cloud_settings', 'create'),
      input: z.strictObject({ id: slug, name: z.string().min(1).max(255) }),
      async handle(ctx, input) {
        // Cloud accounts are infrastructure: an operator's (admin's) to add.
        requireAdmin(ctx.identity, 'create', { type: 'cloud_settings', id: input.id });
        if (!(await ctx.records.insert(CLOUD_SETTINGS_TABLE, { id: input.id, name: input.name }))) {
          throw new ValidationError(`Cloud settings "${input.id}" already exist`, { field: 'id' });
        }
        return { id: input.id, name: input.name };
      },
    }),
  ];
}
