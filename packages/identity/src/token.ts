import { createHmac, timingSafeEqual } from 'node:crypto';
import { UnauthenticatedError, type Identity } from '@jetcel/core';

/** Who is asking: the token's subject and roles ("admin" may act on anything in the reference domain). */
export type { Identity };

export const ADMIN_ROLE = 'admin';
export const TOKEN_ISSUER = 'jetcel';
const HEADER_SEGMENT = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
// Printable, no whitespace: actors end up in log lines, headers and subjects of audit queries.
const ACTOR_PATTERN = /^[\x21-\x7e\u00a0-\uffff]{1,128}$/u;
const MAX_TOKEN_LENGTH = 4096;
const MIN_SECRET_LENGTH = 32;

function signature(input: string, secret: string): Buffer {
  return createHmac('sha256', secret).update(input).digest();
}

export function assertUsableSecret(secret: string): void {
  if (secret.length < MIN_SECRET_LENGTH)
    throw new TypeError(`The identity secret must be at least ${MIN_SECRET_LENGTH} characters long`);
}

/** Signs an HS256 JWT `{iss:"jetcel", sub, roles, iat, exp}`. */
export function signIdentityToken(
  identity: Identity,
  secret: string,
  options: { ttlSeconds?: number; now?: Date } = {},
): string {
  assertUsableSecret(secret);
  if (!ACTOR_PATTERN.test(identity.actor)) throw new TypeError(`Invalid actor "${identity.actor}"`);
  const iat = Math.floor((options.now ?? new Date()).getTime() / 1000);
  const claims = {
    iss: TOKEN_ISSUER,
    sub: identity.actor,
    roles: [...identity.roles],
    iat,
    exp: iat + (options.ttlSeconds ?? 3600),
  };
  const body = `${HEADER_SEGMENT}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  return `${body}.${signature(body, secret).toString('base64url')}`;
}

function decodeJson(segment: string): unknown {
  try {
    return JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
  } catch {
    throw new UnauthenticatedError('Malformed identity token');
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Verifies signature, algorithm, issuer and expiry; any doubt is UNAUTHENTICATED, never a partial identity. */
export function verifyIdentityToken(
  token: string,
  secret: string,
  options: { now?: Date; clockSkewSeconds?: number } = {},
): Identity {
  if (token.length > MAX_TOKEN_LENGTH) throw new UnauthenticatedError('Identity token is too long');
  const parts = token.split('.');
  if (parts.length !== 3) throw new UnauthenticatedError('Malformed identity token');
  const [headerSegment = '', claimsSegment = '', signatureSegment = ''] = parts;
  const header = decodeJson(headerSegment);
  // Only HS256: "alg":"none" and algorithm confusion are refused before the signature is looked at.
  if (!isRecord(header) || header.alg !== 'HS256')
    throw new UnauthenticatedError('Unsupported identity token algorithm');
  const expected = signature(`${headerSegment}.${claimsSegment}`, secret);
  const given = Buffer.from(signatureSegment, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    throw new UnauthenticatedError('Identity token signature is invalid');
  const claims = decodeJson(claimsSegment);
  if (!isRecord(claims) || claims.iss !== TOKEN_ISSUER)
    throw new UnauthenticatedError('Identity token has a foreign issuer');
  const { sub, roles, exp } = claims;
  if (typeof sub !== 'string' || !ACTOR_PATTERN.test(sub))
    throw new UnauthenticatedError('Identity token has no valid subject');
  if (typeof exp !== 'number') throw new UnauthenticatedError('Identity token has no expiry');
  const now = (options.now ?? new Date()).getTime() / 1000;
  if (exp + (options.clockSkewSeconds ?? 30) < now) throw new UnauthenticatedError('Identity token has expired');
  const roleList = Array.isArray(roles) ? roles.filter((role): role is string => typeof role === 'string') : [];
  return { actor: sub, roles: roleList };
}

/** The token of an `Authorization: Bearer <jwt>` header, or null when the header is absent. */
export function bearerToken(header: string | undefined): string | null {
  if (header === undefined || header === '') return null;
  const match = /^Bearer ([A-Za-z0-9_.-]+)$/.exec(header.trim());
  if (!match?.[1]) throw new UnauthenticatedError('Authorization header must be "Bearer <token>"');
  return match[1];
}
