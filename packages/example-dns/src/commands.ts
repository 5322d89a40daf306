import { NotFoundError, ValidationError } from '@jetcel/core';
import { defineCommand, defineQuery } from '@jetcel/runtime';
import { z } from 'zod';
import { zoneCreateExecutor, zoneDeleteExecutor } from './executors.ts';
import { ZONE_TYPE } from './zone.ts';

const ZONE_NAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

const createInput = z.strictObject({
  name: z.string().regex(ZONE_NAME, 'a lower-case DNS name such as example.org'),
  account: z.string().min(1).max(63).default('default'),
});
const idInput = z.strictObject({ id: z.uuid() });
const deleteInput = idInput.extend({ force: z.boolean().default(false) });

/** cmd.dns_zone.create: inserts the zone (CREATION_SCHEDULED, owned by the caller) and schedules its create. */
export const createZoneCommand = defineCommand({
  subject: 'cmd.dns_zone.create',
  input: createInput,
  async handle(ctx, input) {
    if ((await ctx.resources.find(ZONE_TYPE, { name: input.name })).length > 0)
      throw new ValidationError(`zone ${input.name} already exists`, { name: input.name });
    const zone = await ctx.resources.insert(
      ZONE_TYPE,
      { name: input.name, account: input.account, owner: ctx.actor },
      { executionId: null, actor: ctx.actor },
    );
    const scheduled = await ctx.schedule(zoneCreateExecutor, zone, {});
    return { id: zone.id, executionId: scheduled.kind === 'scheduled' ? scheduled.executionId : null };
  },
});

/** cmd.dns_zone.delete: schedules the delete of a settled zone. */
export const deleteZoneCommand = defineCommand({
  subject: 'cmd.dns_zone.delete',
  input: deleteInput,
  async handle(ctx, input) {
    const zone = await ctx.resources.get(ZONE_TYPE, input.id, { forUpdate: true });
    if (!zone || !(await ctx.read.canRead(zone))) throw new NotFoundError('Zone', input.id);
    const scheduled = await ctx.schedule(zoneDeleteExecutor, zone, { force: input.force });
    return { id: zone.id, executionId: scheduled.kind === 'scheduled' ? scheduled.executionId : null };
  },
});

/** query.dns_zone.get: one zone as its reader may see it. */
export const getZoneQuery = defineQuery({
  subject: 'query.dns_zone.get',
  input: idInput,
  async handle(ctx, input) {
    const zone = await ctx.resources.get(ZONE_TYPE, input.id);
    if (!zone || !(await ctx.read.canRead(zone))) throw new NotFoundError('Zone', input.id);
    const shown = ctx.read.shown(zone);
    return {
      id: shown.id,
      name: shown.fields.name,
      account: shown.fields.account,
      state: shown.state,
      runtimeState: shown.runtimeState,
      providerId: shown.backendId,
      errorMessage: shown.errorMessage,
    };
  },
});

export const dnsCommands = [createZoneCommand, deleteZoneCommand, getZoneQuery];
