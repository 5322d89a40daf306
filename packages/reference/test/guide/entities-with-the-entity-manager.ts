// The snippet of docs/write-your-own.md "Entities with the EntityManager", compiled by `pnpm typecheck`
// (guide-snippets.test.ts checks the guide shows this code, from its first non-import line on).
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { commandSubject } from '@jetcel/contracts';
import { NotFoundError } from '@jetcel/core';
import { defineRecordEntity } from '@jetcel/db';
import { defineCommand } from '@jetcel/runtime';
import { volumeExtendExecutor } from '../../src/volume-executors.ts';

/** Why a volume was resized, and by whom: a plain table of the domain, mapped as an entity. */
export const VolumeResize = defineRecordEntity({
  name: 'VolumeResize',
  tableName: 'my_volume_resize',
  properties: (p) => ({
    id: p.uuid().primary(),
    volumeId: p.uuid().index(),
    size: p.integer(),
    reason: p.text(),
    requestedBy: p.string().length(255),
  }),
});

export const resizeWithReason = defineCommand({
  subject: commandSubject('volume', 'resize'),
  input: z.strictObject({ id: z.uuid(), size: z.number().int().min(1), reason: z.string().min(1).max(500) }),
  async handle(ctx, input) {
    const volume = await ctx.resources.get('volume', input.id, { forUpdate: true });
    if (!volume) throw new NotFoundError('Volume', input.id);
    const earlier = await ctx.em.count(VolumeResize, { volumeId: volume.id });
    ctx.em.create(VolumeResize, {
      id: randomUUID(),
      volumeId: volume.id,
      size: input.size,
      reason: input.reason,
      requestedBy: ctx.actor,
    });
    const scheduled = await ctx.schedule(volumeExtendExecutor, volume, { size: input.size });
    // No flush needed: the command's unit of work is flushed before COMMIT, with the outbox rows.
    return { resizes: earlier + 1, executionId: scheduled.kind === 'scheduled' ? scheduled.executionId : null };
  },
});
