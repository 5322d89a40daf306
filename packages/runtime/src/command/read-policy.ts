import type { AuthorizeHook, Identity, ResourceSnapshot } from '@jetcel/core';
import type { OwnerFilter } from '@jetcel/db';
import { isAdmin, type Caller } from './identity.ts';

/** The action a read policy's `authorize` hook is asked for. */
export const READ_ACTION = 'read';

/**
 * Which resources a caller's lists hold, applied in SQL so limits and offsets count only those:
 * every one, only those whose owner field names the caller, or none.
 */
export type ReadScope = { kind: 'all' } | { kind: 'owned'; owned: OwnerFilter } | { kind: 'none' };

/**
 * Who may read a resource (and its executions). `authorize` is asked with action "read" for one
 * resource; `scope` is the same rule as a list filter. The two must agree.
 */
export interface ReadPolicy {
  readonly authorize: AuthorizeHook;
  scope(identity: Identity): ReadScope;
}

/** The default when a deployment names no read policy: only admins read resources (fail closed). */
export const ADMIN_READS: ReadPolicy = {
  authorize: (identity) => isAdmin(identity),
  scope: (identity) => (isAdmin(identity) ? { kind: 'all' } : { kind: 'none' }),
};

/** An admin reads everything; anyone else the resources whose domain field `field` names them. */
export function ownerReads(field: string): ReadPolicy {
  return {
    authorize: (identity, _action, resource) => isAdmin(identity) || resource.fields[field] === identity.actor,
    scope: (identity) =>
      isAdmin(identity) ? { kind: 'all' } : { kind: 'owned', owned: { field, owner: identity.actor } },
  };
}

/** What one caller may read, as the command context offers it. */
export interface ReadAccess {
  /** May the caller see this resource? (An anonymous development caller sees everything.) */
  canRead(resource: ResourceSnapshot): Promise<boolean>;
  /** The caller's list filter. */
  readonly scope: ReadScope;
  /** Error tracebacks are an admin's (or an anonymous development caller's) to see. */
  readonly seesTracebacks: boolean;
  /** The resource as this caller may see it: without its traceback unless `seesTracebacks`. */
  shown(resource: ResourceSnapshot): ResourceSnapshot;
}

/** An anonymous caller got in only because the policy is `allow` (development): it reads like an admin. */
export function readAccess(caller: Caller, policy: ReadPolicy): ReadAccess {
  const trusted = !caller.verified;
  const seesTracebacks = trusted || isAdmin(caller);
  return {
    canRead: async (resource) => trusted || (await policy.authorize(caller, READ_ACTION, resource)),
    scope: trusted ? { kind: 'all' } : policy.scope(caller),
    seesTracebacks,
    shown: (resource) => (seesTracebacks ? resource : { ...resource, errorTraceback: '' }),
  };
}
