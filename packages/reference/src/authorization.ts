import type { AuthorizeHook, ResourceSnapshot } from '@jetcel/core';
import { isAdmin, ownerReads, type ReadPolicy } from '@jetcel/runtime';

/** Who created a reference resource (`owner`, migration m003), or null for rows older than owners. */
export function ownerOf(resource: ResourceSnapshot): string | null {
  const { owner } = resource.fields;
  return typeof owner === 'string' ? owner : null;
}

/**
 * The reference domain's policy, the `authorize` hook of every reference executor: an
 * admin may do anything; anyone else acts only on what they own. Creating is open to every
 * authenticated caller, since a new row's owner is its creator. A row without an owner (created
 * before owners were recorded) is an admin's alone.
 */
export const ownerOrAdmin: AuthorizeHook = (identity, _action, resource) => {
  const owner = ownerOf(resource);
  return isAdmin(identity) || (owner !== null && owner === identity.actor);
};

/** Attaching something new to a resource (a volume to an instance, an instance to a project) needs its ownership. */
export const attachTo = (type: string) => ({ name: `${type}.attach`, authorize: ownerOrAdmin });

/**
 * Who may read a reference resource and its executions: the same hook, asked with action "read"
 * (owner or admin); lists hold the caller's own rows (an admin's: every row).
 */
export const referenceReads: ReadPolicy = { ...ownerReads('owner'), authorize: ownerOrAdmin };
