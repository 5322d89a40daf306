import { defineTask, done } from '@jetcel/core';

interface TenantApi {
  syncTenant(tenant: string, options: { signal: AbortSignal }): Promise<void>;
}

export const syncTenant = defineTask<{ tenant: string }, { tenants: TenantApi }>({
  name: 'tenant.sync_quota',
  queue: 'background',
  equality: 'none',
  // At most 2 syncs per tenant at once; the others wait for a slot.
  throttle: { kind: 'tenant_sync', scope: (args) => args.tenant, limit: 2 },
  async run(ctx, args) {
    await ctx.services.tenants.syncTenant(args.tenant, { signal: ctx.signal });
    return done();
  },
});
