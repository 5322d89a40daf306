// What the guide's code blocks use without showing where it comes from: the framework's names a
// block leaves out of its imports, and the domain's own names that other blocks or prose define.
// Global, so a block that imports or defines one of these names itself shadows it.

import type * as contracts from '@jetcel/contracts';
import type * as core from '@jetcel/core';
import type { ExecutorDefinition, ResourceSnapshot, TaskDefinition } from '@jetcel/core';
import type * as db from '@jetcel/db';
import type { SqlMigration } from '@jetcel/db';
import type * as runtime from '@jetcel/runtime';
import type { CommandDefinition, Schedule } from '@jetcel/runtime';
import type * as zod from 'zod';

declare global {
  // The framework, as the blocks use it without an import line.
  const defineTask: typeof core.defineTask;
  const defineExecutor: typeof core.defineExecutor;
  const done: typeof core.done;
  const pollAgain: typeof core.pollAgain;
  const step: typeof core.step;
  const NotFoundError: typeof core.NotFoundError;
  const defineCommand: typeof runtime.defineCommand;
  const defineSchedule: typeof runtime.defineSchedule;
  const ownerReads: typeof runtime.ownerReads;
  const taskEntityManager: typeof runtime.taskEntityManager;
  const commandSubject: typeof contracts.commandSubject;
  const z: typeof zod.z;

  // The domain the guide builds (section by section).
  interface MyCloudOptions {
    signal: AbortSignal;
    idempotencyKey: string;
    fencingToken: string | null;
    fencingSlot: string | null;
  }
  class MyCloudClient {
    constructor(url: string);
    createVolume(
      spec: { name: string; size: number },
      options: MyCloudOptions,
    ): Promise<{ id: string; status: string }>;
  }
  interface MyServices {
    cloud: MyCloudClient;
  }
  function requireResource(resource: ResourceSnapshot | null, task: string): ResourceSnapshot;
  const Volume: ReturnType<typeof db.defineResourceEntity>;
  const myMigrations: SqlMigration[];
  const createVolumeTask: TaskDefinition<unknown, MyServices>;
  const pollVolumeTask: TaskDefinition<unknown, MyServices>;
  const extendVolumeTask: TaskDefinition<{ size: number }, MyServices>;
  const pollVolume: TaskDefinition<{ size: number }, MyServices>;
  const extendErredTask: TaskDefinition<Record<string, never>, MyServices>;
  const volumeCreateExecutor: ExecutorDefinition;
  const volumeDeleteExecutor: ExecutorDefinition;
  const volumeExtendExecutor: ExecutorDefinition<{ size: number }>;
  const myCommands: CommandDefinition[];
  // What the modules a block imports by a relative path export (`./volume-executors.ts`).
  var guideModules: {
    volumeExtendExecutor: ExecutorDefinition<{ size: number }>;
    instanceBackupExecutor: ExecutorDefinition<{
      [key: string]: string | number | null;
      name: string;
      retention: number | null;
    }>;
    instancePullExecutor: ExecutorDefinition<Record<string, never>>;
  };
  const mySchedules: Schedule[];
}
