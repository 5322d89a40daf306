import { z } from 'zod';
import { querySubject, type ScheduleListView } from '@jetcel/contracts';
import { defineQuery } from '../command/commands.ts';
import { frameworkTx } from '../command/context.ts';
import type { TaskCatalog } from '../execution/queue-step.ts';
import type { Schedule } from '../beat/schedules.ts';

/** query.schedule.list: each beat schedule with its last recorded tick and its next one. */
export function scheduleListQuery(schedules: readonly Schedule[], catalog: TaskCatalog) {
  return defineQuery({
    subject: querySubject('schedule', 'list'),
    input: z.strictObject({}),
    async handle(ctx): Promise<ScheduleListView> {
      const now = new Date();
      const last = await frameworkTx(ctx).scheduleTicks.latestOf(schedules.map((schedule) => schedule.name));
      return {
        items: schedules.map((schedule) => ({
          name: schedule.name,
          task: schedule.task,
          queue: catalog.get(schedule.task)?.queue ?? 'background',
          describe: schedule.describe,
          everyMs: schedule.every,
          cron: schedule.cron,
          resource: schedule.resource ?? null,
          lastTick: last.get(schedule.name)?.toISOString() ?? null,
          nextTick: schedule.nextTick(now).toISOString(),
        })),
      };
    },
  });
}
