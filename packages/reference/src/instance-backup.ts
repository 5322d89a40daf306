import { ownerOrAdmin } from './authorization.ts';
import { z } from 'zod';
import { commandSubject } from '@jetcel/contracts';
import { defineExecutor, defineTask, done, step } from '@jetcel/core';
import { defineCommand } from '@jetcel/runtime';
import { byId, load, runOn, slug } from './command-helpers.ts';
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

/** Backup, an action on the heavy queue (Waldur's `is_heavy_task` executors). */
export const instanceBackupExecutor = defineExecutor<{ name: string }>({
  name: 'instance.backup',
  kind: 'action',
  resourceType: 'instance',
  authorize: ownerOrAdmin,
  heavy: true,
  action: 'Backup',
  actionDetails: ({ params }) => ({ snapshot_name: params.name }),
  tasks: [createSnapshotTask],
  steps: ({ params }) => [
    step(createSnapshotTask, { name: params.name }, { before: { transition: 'begin_updating' } }),
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
          { name: input.name },
          instanceView,
        );
      },
    }),
  ];
}
