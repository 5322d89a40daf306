import { builtinTasks, TaskRegistry } from '@jetcel/core';
import type { CommandDefinition } from '@jetcel/runtime';
import { DEFAULT_REFERENCE_CONFIG, type ReferenceConfig } from './config.ts';
import { referenceEntities } from './entities.ts';
import { instanceCommands } from './instance-commands.ts';
import { instanceCreateExecutor } from './instance-executors.ts';
import { createServerTask, pollServerTask } from './instance-tasks.ts';
import { referenceMigrations } from './migrations.ts';
import type { ReferenceServices } from './services.ts';

/** Everything the reference domain brings: what a user's own domain package would export too. */
export function createReferenceDomain(config: ReferenceConfig = DEFAULT_REFERENCE_CONFIG) {
  const executors = { create: instanceCreateExecutor(config) };
  const tasks = new TaskRegistry<ReferenceServices>().register(
    ...builtinTasks,
    createServerTask,
    pollServerTask(config),
  );
  const commands: Array<CommandDefinition<never>> = instanceCommands(executors) as Array<CommandDefinition<never>>;
  return { entities: referenceEntities, migrations: referenceMigrations, tasks, executors, commands };
}

export type ReferenceDomain = ReturnType<typeof createReferenceDomain>;
