import { defineSchedule, PRUNE_TASK, type Schedule } from '@jetcel/runtime';
import type { BackgroundConfig } from './background-config.ts';
import { PULL_TASKS } from './pull-tasks.ts';
import { WATCHDOG_TASKS } from './watchdog-tasks.ts';

/** The reference domain's beat schedules (Waldur's core entries), under stable names. */
export function referenceSchedules(config: BackgroundConfig): Schedule[] {
  const schedules = [
    defineSchedule({ name: 'instance-list-pull', task: PULL_TASKS.listPull, every: config.listPullEveryMs }),
    defineSchedule({
      name: 'set-erred-stuck-resources',
      task: WATCHDOG_TASKS.stuckProvisioning,
      every: config.stuckProvisioningEveryMs,
    }),
    defineSchedule({
      name: 'reset-updating-resources',
      task: WATCHDOG_TASKS.resetUpdating,
      every: config.resetUpdatingEveryMs,
    }),
    defineSchedule({ name: 'prune-retention', task: PRUNE_TASK, every: config.pruneEveryMs }),
  ];
  if (config.testScheduleEveryMs !== null)
    schedules.push(
      defineSchedule({ name: 'test-heartbeat', task: WATCHDOG_TASKS.heartbeatTick, every: config.testScheduleEveryMs }),
    );
  return schedules;
}
