import { builtinTasks, ExecutorRegistry, TaskRegistry } from '@jetcel/core';
import { pruneTask, watchdogTasks, type CommandDefinition } from '@jetcel/runtime';
import { DEFAULT_BACKGROUND_CONFIG, type BackgroundConfig } from './background-config.ts';
import { referenceReads } from './authorization.ts';
import { cloudSettingsCommands } from './cloud-settings-commands.ts';
import { backupCommands, createSnapshotTask, instanceBackupExecutor, pruneBackupsTask } from './instance-backup.ts';
import { backupScheduleCommands, backupSchedulesTask } from './backup-schedule.ts';
import { DEFAULT_REFERENCE_CONFIG, type ReferenceConfig } from './config.ts';
import { referenceEntities } from './entities.ts';
import { instanceCommands } from './instance-commands.ts';
import {
  instanceCreateExecutor,
  instanceCreatedTask,
  instanceDeleteExecutor,
  instancePullExecutor,
  instanceRenameExecutor,
  instanceResizeExecutor,
  instanceStartExecutor,
  instanceStopExecutor,
} from './instance-executors.ts';
import {
  createServerTask,
  serverDeletionTasks,
  pollServerTask,
  pullServerTask,
  renameServerTask,
  serverActionTask,
  setInstanceErredTask,
} from './instance-tasks.ts';
import { referenceMigrations } from './migrations.ts';
import { projectCommands } from './project-commands.ts';
import { projectCleanupExecutor } from './project-executors.ts';
import { backgroundPullTask, listPullTask } from './pull-tasks.ts';
import { referenceSchedules } from './schedules.ts';
import type { ReferenceServices } from './services.ts';
import { volumeCommands } from './volume-commands.ts';
import { volumeCreateExecutor, volumeDeleteExecutor, volumeExtendExecutor } from './volume-executors.ts';
import {
  createVolumeTask,
  extendErredTask,
  extendVolumeTask,
  volumeDeletionTasks,
  pollVolumeTask,
} from './volume-tasks.ts';
import { heartbeatTickTask } from './watchdog-tasks.ts';

/** The reference domain's own tasks (the built-in ones are the framework's). */
export function referenceTasks(config: ReferenceConfig, background: BackgroundConfig = DEFAULT_BACKGROUND_CONFIG) {
  return [
    createServerTask,
    pollServerTask(config),
    renameServerTask,
    serverActionTask,
    ...serverDeletionTasks(config),
    pullServerTask,
    setInstanceErredTask,
    createVolumeTask,
    pollVolumeTask(config),
    extendVolumeTask,
    ...volumeDeletionTasks(config),
    extendErredTask,
    listPullTask,
    backgroundPullTask,
    heartbeatTickTask,
    createSnapshotTask,
    pruneBackupsTask,
    backupSchedulesTask(background),
    instanceCreatedTask,
  ];
}

/** Everything the reference domain brings: what a user's own domain package would export too. */
export function createReferenceDomain(
  config: ReferenceConfig = DEFAULT_REFERENCE_CONFIG,
  background: BackgroundConfig = DEFAULT_BACKGROUND_CONFIG,
) {
  const create = instanceCreateExecutor(config);
  const executors = {
    create,
    rename: instanceRenameExecutor,
    resize: instanceResizeExecutor,
    start: instanceStartExecutor,
    stop: instanceStopExecutor,
    delete: instanceDeleteExecutor,
    pull: instancePullExecutor,
    volumeCreate: volumeCreateExecutor,
    volumeExtend: volumeExtendExecutor,
    volumeDelete: volumeDeleteExecutor,
    projectCleanup: projectCleanupExecutor,
    backup: instanceBackupExecutor,
  };
  const executorRegistry = new ExecutorRegistry().register(...(Object.values(executors) as never[]));
  const tasks = new TaskRegistry<ReferenceServices>().register(
    ...builtinTasks,
    ...referenceTasks(config, background),
    pruneTask,
    ...watchdogTasks,
  );
  const commands = [
    ...instanceCommands(create),
    ...volumeCommands(),
    ...projectCommands(),
    ...cloudSettingsCommands(),
    ...backupCommands(),
    ...backupScheduleCommands(),
  ] as Array<CommandDefinition<never>>;
  const schedules = referenceSchedules(background);
  return {
    entities: referenceEntities,
    migrations: referenceMigrations,
    tasks,
    executors,
    executorRegistry,
    commands,
    schedules,
    readPolicy: referenceReads,
  };
}

export type ReferenceDomain = ReturnType<typeof createReferenceDomain>;
