import { defineSchedule, PRUNE_TASK, type Schedule } from '@jetcel/runtime';
import type { BackgroundConfig } from './background-config.ts';
import { BACKUP_SCHEDULES_TASK } from './backup-schedule.ts';
import { PULL_TASKS } from './pull-tasks.ts';
import { HEARTBEAT_TICK_TASK } from './watchdog-tasks.ts';

/**
 * The reference domain's beat schedules (Waldur's core entries), under stable names. The
 * stuck-resource watchdogs are the framework's, for every domain (see `watchdogSchedules`).
 */
export function referenceSchedules(config: BackgroundConfig): Schedule[] {
  const schedules = [
    defineSchedule({ name: 'instance-list-pull', task: PULL_TASKS.listPull, every: config.listPullEveryMs }),
    defineSchedule({ name: 'prune-retention', task: PRUNE_TASK, every: config.pruneEveryMs }),
    defineSchedule({
      name: 'instance-backup-schedules',
      task: BACKUP_SCHEDULES_TASK,
      every: config.backupCheckEveryMs,
    }),
  ];
  if (config.testScheduleEveryMs !== null)
    schedules.push(
      defineSchedule({ name: 'test-heartbeat', task: HEARTBEAT_TICK_TASK, every: config.testScheduleEveryMs }),
    );
  return schedules;
}
