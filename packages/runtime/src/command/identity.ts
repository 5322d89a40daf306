import { HEADERS } from '@jetcel/contracts';
import {
  ForbiddenError,
  UnauthenticatedError,
  type AuthorizeHook,
  type Identity,
  type ResourceSnapshot,
} from '@jetcel/core';
import {
  ADMIN_ROLE,
  DEFAULT_MAX_TTL_SECONDS,
  bearerToken,
  verifyIdentityToken,
  type AuthConfig,
} from '@jetcel/identity';
import { ACTOR_PATTERN, findHeader, headerValue } from './headers.ts';

/** The actor of a request without a token when the anonymous policy is `allow` and no Actor header came. */
export const ANONYMOUS_ACTOR = 'anonymous';

/** Local development: no secret, anonymous callers allowed (what an executor without configuration does). */
export const DEVELOPMENT_AUTH: AuthConfig = { keys: null, anonymous: 'allow', maxTtlSeconds: DEFAULT_MAX_TTL_SECONDS };

/**
 * Who sent one request. `verified`: the identity came from a token this executor verified.
 * Otherwise the anonymous policy let the caller in, and its actor (the `Actor` header, or
 * "anonymous") is a claim nobody checked.
 */
export interface Caller extends Identity {
  readonly verified: boolean;
}

/**
 * The caller of a command or query. A bearer token must verify (bad signature, `alg` other than
 * HS256, unknown `kid`, expiry, too long a lifetime, malformed → UNAUTHENTICATED), and an `Actor` header beside it must name
 * the token's subject. Without a token, `deny` refuses and `allow` lets the caller in as the
 * unverified `Actor` header or "anonymous".
 */
export async function identifyCaller(headers: Record<string, string>, auth: AuthConfig): Promise<Caller> {
  const token = bearerToken(findHeader(headers, HEADERS.authorization));
  const claimed = headerValue(headers, HEADERS.actor, ACTOR_PATTERN, 'Actor');
  if (token !== null) {
    if (auth.keys === null)
      throw new UnauthenticatedError('This executor has no JETCEL_AUTH_SECRET(S), so it cannot verify identity tokens');
    const identity = await verifyIdentityToken(token, auth.keys, { maxTtlSeconds: auth.maxTtlSeconds });
    if (claimed !== null && claimed !== identity.actor)
      throw new UnauthenticatedError("The Actor header differs from the identity token's subject");
    return { actor: identity.actor, roles: identity.roles, verified: true };
  }
  if (auth.anonymous === 'deny')
    throw new UnauthenticatedError('An identity token is required: send "Authorization: Bearer <token>"');
  return { actor: claimed ?? ANONYMOUS_ACTOR, roles: [], verified: false };
}

export function isAdmin(identity: Identity): boolean {
  return identity.roles.includes(ADMIN_ROLE);
}

interface Target {
  type: string;
  id: string;
}

function forbidden(caller: Caller, action: string, target: Target): ForbiddenError {
  return new ForbiddenError(`${caller.actor} may not ${action} ${target.type} ${target.id}`, {
    action,
    resource: target,
  });
}

/** An executor, or any named action with an authorization hook (e.g. attaching to a resource). */
export interface Authorizable {
  readonly name: string;
  readonly authorize?: AuthorizeHook | undefined;
}

/**
 * Asks the `authorize` hook of an executor (or another action) before it runs. An anonymous caller
 * got this far only because the policy is `allow` (development): it may do everything.
 */
export async function authorizeExecutor(
  caller: Caller,
  action: Authorizable,
  resource: ResourceSnapshot,
): Promise<void> {
  if (!caller.verified || !action.authorize) return;
  if (!(await action.authorize(caller, action.name, resource))) throw forbidden(caller, action.name, resource);
}

/** Framework commands on an execution (cancel, dead-letter re-drive): its actor or an admin. */
export function requireActorOrAdmin(caller: Caller, owner: string | null, action: string, target: Target): void {
  if (!caller.verified || isAdmin(caller) || (owner !== null && owner === caller.actor)) return;
  throw forbidden(caller, action, target);
}

/** Operator-only commands: an admin (or anyone, when the policy lets anonymous callers in). */
export function requireAdmin(caller: Caller, action: string, target: Target): void {
  if (!caller.verified || isAdmin(caller)) return;
  throw forbidden(caller, action, target);
}
