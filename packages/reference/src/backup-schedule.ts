import { z } from 'zod';
import { commandSubject } from '@jetcel/contracts';
import { defineTask, doneWith, scheduleOf, type TaskOutcome } from '@jetcel/core';
import { defineCommand } from '@jetcel/runtime';
import { ownerOrAdmin } from './authorization.ts';
import type { BackgroundConfig } from './background-config.ts';
import { byId, load } from './command-helpers.ts';
import { instanceBackupExecutor } from './instance-backup.ts';
import type { ReferenceServices } from './services.ts';
import { instanceView } from './views.ts';

export const BACKUP_SCHEDULES_TASK = 'instance.backup_schedules';
/** The names of scheduled backups start with this; the schedule's retention counts only these. */
export const SCHEDULED_BACKUP_PREFIX = 'daily-';

/**
 * Waldur's BaseScheduleTask for backups: every instance whose backup is due gets an
 * `instance.backup` execution on the heavy queue, scheduled in this run's commit together with its
 * next due time (a day on). A busy instance refuses it (preApply): that day's backup is skipped and
 * logged, not retried. Published by beat; equality by name: one check at a time.
 */
export function backupSchedulesTask(config: Pick<BackgroundConfig, 'backupIntervalMs'>) {
  return defineTask<unknown, ReferenceServices>({
    name: BACKUP_SCHEDULES_TASK,
    queue: 'background',
    equality: 'name',
    sideEffects: false,
    retry: { maxAttempts: 3, initialDelayMs: 1000 },
    async run(ctx): Promise<TaskOutcome> {
      const now = Date.now();
      const due = (await ctx.resources.find('instance', {}, { hasBackendId: true })).filter((instance) => {
        const { backupRetention, backupNextAt } = instance.fields;
        return (
          typeof backupRetention === 'number' && typeof backupNextAt === 'string' && Date.parse(backupNextAt) <= now
        );
      });
      const next = new Date(now + config.backupIntervalMs).toISOString();
      const name = `${SCHEDULED_BACKUP_PREFIX}${new Date(now).toISOString().replace(/[:.]/g, '-')}`;
      return doneWith({
        also: due.map((instance) => ({
          ref: `instance:${instance.id}`,
          version: instance.version,
          patch: { fields: { backupNextAt: next } },
        })),
        schedule: due.map((instance) =>
          scheduleOf(
            instanceBackupExecutor,
            instance,
            { name, retention: Number(instance.fields.backupRetention), prefix: SCHEDULED_BACKUP_PREFIX },
            { heavy: true, onRefused: 'skip' },
          ),
        ),
        result: { due: due.length },
      });
    },
  });
}

/**
 * Sets (or, with `retention: null`, removes) an instance's daily backup schedule. The first backup
 * is due at once: the next check schedules it.
 */
export function backupScheduleCommands() {
  return [
    defineCommand({
      subject: commandSubject('instance', 'set_backup_schedule'),
      input: byId.extend({ retention: z.int().min(1).max(365).nullable() }),
      async handle(ctx, input) {
        const instance = await load(ctx, 'instance', input.id);
        await ctx.authorize({ name: 'instance.set_backup_schedule', authorize: ownerOrAdmin }, instance);
        const updated = await ctx.resources.applyPatch(
          instance,
          {
            fields: {
              backupRetention: input.retention,
              backupNextAt: input.retention === null ? null : new Date().toISOString(),
            },
          },
          { executionId: null, actor: ctx.actor },
        );
        return instanceView(ctx.read.shown(updated ?? instance));
      },
    }),
  ];
}
