import { z } from 'zod';
import { parseLeaseKey, querySubject, type LeaseListView } from '@jetcel/contracts';
import { readLeases, type Bus, type LeaseSnapshot } from '@jetcel/bus';
import type { ThrottleLimitRow } from '@jetcel/db';
import { defineQuery } from '../command/commands.ts';
import { frameworkTx } from '../command/context.ts';

type ScopeView = LeaseListView['scopes'][number];

function limitOf(
  limits: ThrottleLimitRow[],
  kind: string,
  scope: string,
  defaultLimit: number,
  declared: ReadonlyMap<string, number>,
): Pick<ScopeView, 'limit' | 'limitSource'> {
  const own = limits.find((row) => row.kind === kind && row.scope === scope);
  if (own) return { limit: own.limit, limitSource: 'scope' };
  const ofKind = limits.find((row) => row.kind === kind && row.scope === '*');
  if (ofKind) return { limit: ofKind.limit, limitSource: 'kind' };
  const inCode = declared.get(kind);
  if (inCode !== undefined) return { limit: inCode, limitSource: 'declared' };
  return { limit: defaultLimit, limitSource: 'default' };
}

function leaseView(lease: LeaseSnapshot, slot: number, now: number) {
  return {
    key: lease.key,
    slot,
    executionId: lease.holder?.executionId ?? null,
    revision: lease.revision,
    renewedAt: lease.writtenAt,
    ageMs: Math.max(0, now - Date.parse(lease.writtenAt)),
  };
}

/**
 * query.lease.list: live throttle leases (read from the LEASES bucket without a consumer) grouped by
 * kind and scope, with the limit in force and how many executions wait; optionally one kind or scope.
 */
export function leaseListQuery(bus: Bus, defaultLimit: number, declared: ReadonlyMap<string, number> = new Map()) {
  return defineQuery({
    subject: querySubject('lease', 'list'),
    input: z.strictObject({
      kind: z.string().min(1).max(64).optional(),
      scope: z.string().min(1).max(255).optional(),
    }),
    async handle(ctx, input): Promise<LeaseListView> {
      const [leases, limits, waiters] = await Promise.all([
        readLeases(bus),
        frameworkTx(ctx).throttle.limits(),
        frameworkTx(ctx).throttle.waiterCounts(),
      ]);
      const now = Date.now();
      const scopes = new Map<string, ScopeView>();
      const scopeOf = (kind: string, scope: string): ScopeView => {
        const id = JSON.stringify([kind, scope]);
        let view = scopes.get(id);
        if (!view) {
          view = {
            kind,
            scope,
            ...limitOf(limits, kind, scope, defaultLimit, declared),
            held: 0,
            waiting: 0,
            leases: [],
          };
          scopes.set(id, view);
        }
        return view;
      };
      for (const lease of leases) {
        const parts = parseLeaseKey(lease.key);
        if (!parts) continue;
        const view = scopeOf(parts.kind, parts.scope);
        view.leases.push(leaseView(lease, parts.slot, now));
        view.held += 1;
      }
      for (const waiter of waiters) scopeOf(waiter.kind, waiter.scope).waiting = waiter.waiting;
      const selected = [...scopes.values()]
        .filter(
          (view) =>
            (input.kind === undefined || view.kind === input.kind) &&
            (input.scope === undefined || view.scope === input.scope),
        )
        .sort((a, b) => a.kind.localeCompare(b.kind) || a.scope.localeCompare(b.scope));
      for (const view of selected) view.leases.sort((a, b) => a.slot - b.slot);
      return { scopes: selected, limits, defaultLimit };
    },
  });
}
