// The snippet of docs/write-your-own.md "Starting executors from tasks and schedules", compiled by
// `pnpm typecheck` (guide-snippets.test.ts checks the guide shows this code, from its first
// non-import line on).
import { defineTask, doneWith, scheduleOf, TaskError } from '@jetcel/core';
import { defineSchedule } from '@jetcel/runtime';
import { instanceBackupExecutor } from '../../src/instance-backup.ts';
import { instancePullExecutor } from '../../src/instance-executors.ts';

/** A create's success handler (`onSuccess: () => step(instanceCreated)`): OK, and a pull in the same commit. */
export const instanceCreated = defineTask({
  name: 'instance.created',
  sideEffects: false,
  async run(ctx) {
    if (!ctx.resource) throw new TaskError('instance.created needs its instance');
    return doneWith({
      patch: { transition: 'set_ok', action: '', actionDetails: {} },
      // The pull's preApply runs in this commit, after the patch: it sees the instance OK.
      schedule: [scheduleOf(instancePullExecutor, ctx.resource, {}, { onRefused: 'skip' })],
    });
  },
});

/** Beat publishes it; each instance due gets a heavy backup and its next due time, in one commit. */
export const backupsDue = defineTask({
  name: 'instance.backups_due',
  queue: 'background',
  async run(ctx) {
    const now = Date.now();
    const due = (await ctx.resources.find('instance', {}, { hasBackendId: true })).filter(
      (instance) => typeof instance.fields.backupNextAt === 'string' && Date.parse(instance.fields.backupNextAt) <= now,
    );
    return doneWith({
      also: due.map((instance) => ({
        ref: `instance:${instance.id}`,
        version: instance.version,
        patch: { fields: { backupNextAt: new Date(now + 86_400_000).toISOString() } },
      })),
      schedule: due.map((instance) =>
        scheduleOf(
          instanceBackupExecutor,
          instance,
          { name: `daily-${now}`, retention: Number(instance.fields.backupRetention), prefix: 'daily-' },
          { heavy: true, onRefused: 'skip' }, // a busy instance skips this backup
        ),
      ),
    });
  },
});

export const backupSchedule = defineSchedule({
  name: 'instance-backups',
  task: 'instance.backups_due',
  every: 300_000,
});
