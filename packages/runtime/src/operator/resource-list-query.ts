import { z } from 'zod';
import { querySubject, type ResourceItemView, type ResourceListView } from '@jetcel/contracts';
import { NotFoundError, RESOURCE_STATES, type ResourceSnapshot } from '@jetcel/core';
import { defineQuery } from '../command/commands.ts';
import { frameworkTx } from '../command/context.ts';

/** PostgreSQL's text timestamp ("2026-11-27 23:08:03.98+00") as ISO 8601; kept as is if unreadable. */
function isoTime(value: string): string {
  const time = Date.parse(value);
  return Number.isNaN(time) ? value : new Date(time).toISOString();
}

function resourceItem(resource: ResourceSnapshot): ResourceItemView {
  return {
    type: resource.type,
    id: resource.id,
    state: resource.state,
    version: resource.version,
    backendId: resource.backendId,
    action: resource.action,
    errorMessage: resource.errorMessage,
    modifiedAt: isoTime(resource.modifiedAt),
    fields: resource.fields,
  };
}

/**
 * query.resource.list: for every registered resource type (or one), the count per state, and the
 * newest resources (optionally in one state), up to `limit` per type — of those the caller may
 * read (the read policy's list filter, in SQL: counts and limits cover only those).
 */
export function resourceListQuery() {
  return defineQuery({
    subject: querySubject('resource', 'list'),
    input: z.strictObject({
      type: z.string().min(1).max(63).optional(),
      state: z.enum(RESOURCE_STATES).optional(),
      limit: z.number().int().min(0).max(500).optional(),
    }),
    async handle(ctx, input): Promise<ResourceListView> {
      const known = frameworkTx(ctx).resources.types();
      if (input.type !== undefined && !known.includes(input.type)) throw new NotFoundError('Resource type', input.type);
      const types = input.type === undefined ? known : [input.type];
      const view: ResourceListView = { types: [], items: [] };
      const { scope } = ctx.read;
      for (const type of types) {
        const owned = scope.kind === 'owned' ? scope.owned : undefined;
        const byState = scope.kind === 'none' ? {} : await ctx.resources.countByState(type, owned);
        view.types.push({ type, total: Object.values(byState).reduce((sum, n) => sum + n, 0), byState });
        const limit = input.limit ?? 50;
        if (limit === 0 || scope.kind === 'none') continue;
        const filter = { ...(input.state ? { state: input.state } : {}), ...(owned ? { owned } : {}), limit };
        const items = await ctx.resources.list(type, filter);
        view.items.push(...items.map(resourceItem));
      }
      return view;
    },
  });
}

/** query.resource.get: one resource of any registered type, if the caller may read it (else NOT_FOUND). */
export function resourceGetQuery() {
  return defineQuery({
    subject: querySubject('resource', 'get'),
    input: z.strictObject({ type: z.string().min(1).max(63), id: z.uuid() }),
    async handle(ctx, input): Promise<ResourceItemView> {
      const resource = frameworkTx(ctx).resources.types().includes(input.type)
        ? await ctx.resources.get(input.type, input.id)
        : null;
      if (!resource || !(await ctx.read.canRead(resource)))
        throw new NotFoundError('Resource', `${input.type} ${input.id}`);
      return resourceItem(resource);
    },
  });
}
