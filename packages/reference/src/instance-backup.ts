import { ownerOrAdmin } from './authorization.ts';
import { z } from 'zod';
import { commandSubject } from '@jetcel/contracts';
import { defineExecutor, defineTask, done, step } from '@jetcel/core';
import { defineCommand } from '@jetcel/runtime';
import { byId, load, runOn, slug } from './command-helpers.ts';
import { NotAtBackendError } from './cloud-client.ts';
import { requireBackendId, requireResource } from './fields.ts';
import type { ReferenceServices } from './services.ts';
import { instanceView } from './views.ts';

export const SNAPSHOT_TASK = 'instance.create_snapshot';

/**
 * A long, blocking backend call: it runs on the heavy queue, whose worker has its own slots and ack
 * wait; heartbeats keep it from being redelivered while it runs.
 */
export const createSnapshotTask = defineTask<{ name: string }, ReferenceServices>({
  name: SNAPSHOT_TASK,
  queue: 'heavy',
  args: z.object({ name: z.string() }),
  retry: { maxAttempts: 2, initialDelayMs: 5000 },
  timeoutMs: 2 * 60 * 60_000,
  async run(ctx, args) {
    const instance = requireResource(ctx.resource, SNAPSHOT_TASK);
    const snapshot = await ctx.services.cloud.createSnapshot(requireBackendId(instance), args.name, {
      // A long call: generous client timeout; the idempotency key makes a redelivery join the same snapshot.
      signal: ctx.signal,
      idempotencyKey: ctx.idempotencyKey,
      timeoutMs: 2 * 60 * 60_000,
    });
    ctx.log.info('snapshot complete', { snapshotId: snapshot.id, sizeGiB: snapshot.size });
    return done(undefined, { snapshotId: snapshot.id, size: snapshot.size });
  },
});

export const PRUNE_BACKUPS_TASK = 'instance.prune_backups';

/**
 * Keeps the newest `retention` backups of a schedule (snapshots named `<prefix>…`) and deletes
 * the older ones at the backend. Snapshots taken by hand (other names) are left alone.
 */
export const pruneBackupsTask = defineTask<{ prefix: string; retention: number }, ReferenceServices>({
  name: PRUNE_BACKUPS_TASK,
  args: z.object({ prefix: z.string().min(1), retention: z.int().min(1) }),
  retry: { maxAttempts: 3, initialDelayMs: 1000 },
  async run(ctx, args) {
    const serverId = requireBackendId(requireResource(ctx.resource, PRUNE_BACKUPS_TASK));
    const call = { signal: ctx.signal, idempotencyKey: ctx.idempotencyKey };
    const scheduled = (await ctx.services.cloud.listSnapshots(serverId, call))
      .filter((snapshot) => snapshot.name.startsWith(args.prefix) && snapshot.status === 'available')
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    const expired = scheduled.slice(0, Math.max(0, scheduled.length - args.retention));
    for (const snapshot of expired) {
      try {
        await ctx.services.cloud.deleteSnapshot(serverId, snapshot.id, call);
      } catch (error) {
        // Deleted already (a retry of this step): nothing left to do for it.
        if (!(error instanceof NotAtBackendError)) throw error;
      }
    }
    ctx.log.info('backups pruned', { kept: scheduled.length - expired.length, deleted: expired.length });
    return done(undefined, {
      kept: scheduled.length - expired.length,
      deleted: expired.map((snapshot) => snapshot.id),
    });
  },
});

export interface InstanceBackupParams {
  [key: string]: string | number | null;
  name: string;
  /** A scheduled backup: keep this many of the schedule's backups (named `<prefix>…`), delete the older ones. */
  retention: number | null;
  prefix: string | null;
}

/** Backup, an action on the heavy queue (Waldur's `is_heavy_task` executors). */
export const instanceBackupExecutor = defineExecutor<InstanceBackupParams>({
  name: 'instance.backup',
  kind: 'action',
  resourceType: 'instance',
  authorize: ownerOrAdmin,
  heavy: true,
  action: 'Backup',
  actionDetails: ({ params }) => ({ snapshot_name: params.name }),
  tasks: [createSnapshotTask, pruneBackupsTask],
  steps: ({ params }) => [
    step(createSnapshotTask, { name: params.name }, { before: { transition: 'begin_updating' } }),
    ...(params.retention !== null && params.prefix !== null
      ? [step(pruneBackupsTask, { prefix: params.prefix, retention: params.retention })]
      : []),
  ],
});

export function backupCommands() {
  return [
    defineCommand({
      subject: commandSubject('instance', 'backup'),
      input: byId.extend({ name: slug }),
      async handle(ctx, input) {
        return runOn(
          ctx,
          await load(ctx, 'instance', input.id),
          instanceBackupExecutor,
          { name: input.name, retention: null, prefix: null },
          instanceView,
        );
      },
    }),
  ];
}
