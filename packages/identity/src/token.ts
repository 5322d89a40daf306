import { errors, jwtVerify, SignJWT, type JWTPayload, type JWTVerifyResult } from 'jose';
import { UnauthenticatedError, type Identity } from '@jetcel/core';
import { isCanonicalBase64url } from './canonical.ts';
import { asKeyRing, type KeyRing } from './keys.ts';

/** Who is asking: the token's subject and roles ("admin" may act on anything in the reference domain). */
export type { Identity };

export const ADMIN_ROLE = 'admin';
export const TOKEN_ISSUER = 'jetcel';
/** The longest a token may live (exp - iat) unless configured otherwise: 24 hours. */
export const DEFAULT_MAX_TTL_SECONDS = 24 * 3600;
/** How far the verifier's clock may differ from the signer's for exp, nbf and iat. */
export const DEFAULT_CLOCK_SKEW_SECONDS = 30;
const ALGORITHM = 'HS256';
// Printable, no whitespace: actors end up in log lines, headers and subjects of audit queries.
const ACTOR_PATTERN = /^[\x21-\x7e\u00a0-\uffff]{1,128}$/u;
const MAX_TOKEN_LENGTH = 4096;
const encoder = new TextEncoder();

export interface SignOptions {
  /** Lifetime, default one hour; more than `maxTtlSeconds` is refused (the verifier would refuse it). */
  readonly ttlSeconds?: number;
  readonly maxTtlSeconds?: number;
  readonly now?: Date;
}

export interface VerifyOptions {
  readonly now?: Date;
  readonly clockSkewSeconds?: number;
  /** A token whose exp - iat exceeds this is refused (default 24 h). */
  readonly maxTtlSeconds?: number;
}

/** Signs an HS256 JWT `{iss:"jetcel", sub, roles, iat, exp}` with the ring's newest key, named by `kid`. */
export async function signIdentityToken(
  identity: Identity,
  keys: KeyRing | string,
  options: SignOptions = {},
): Promise<string> {
  const { signing } = asKeyRing(keys);
  if (!ACTOR_PATTERN.test(identity.actor)) throw new TypeError(`Invalid actor "${identity.actor}"`);
  const ttl = options.ttlSeconds ?? 3600;
  const maxTtl = options.maxTtlSeconds ?? DEFAULT_MAX_TTL_SECONDS;
  if (!Number.isSafeInteger(ttl) || ttl <= 0 || ttl > maxTtl)
    throw new TypeError(`A token lifetime must be a whole number of seconds between 1 and ${maxTtl}`);
  const iat = Math.floor((options.now ?? new Date()).getTime() / 1000);
  return new SignJWT({ roles: [...identity.roles] })
    .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT', kid: signing.kid })
    .setIssuer(TOKEN_ISSUER)
    .setSubject(identity.actor)
    .setIssuedAt(iat)
    .setExpirationTime(iat + ttl)
    .sign(encoder.encode(signing.secret));
}

// jose's own errors become UNAUTHENTICATED with a message naming the check that failed.
function unauthenticated(error: unknown): UnauthenticatedError {
  if (error instanceof UnauthenticatedError) return error;
  if (error instanceof errors.JWSSignatureVerificationFailed)
    return new UnauthenticatedError('Identity token signature is invalid');
  if (error instanceof errors.JOSEAlgNotAllowed)
    return new UnauthenticatedError('Unsupported identity token algorithm');
  if (error instanceof errors.JWTExpired) return new UnauthenticatedError('Identity token has expired');
  if (error instanceof errors.JWTClaimValidationFailed)
    return new UnauthenticatedError(
      error.claim === 'iss'
        ? 'Identity token has a foreign issuer'
        : `Identity token claim "${error.claim}" is invalid`,
    );
  return new UnauthenticatedError('Malformed identity token');
}

function identityOf(payload: JWTPayload, maxTtl: number): Identity {
  const { sub, roles, iat, exp } = payload;
  if (typeof sub !== 'string' || !ACTOR_PATTERN.test(sub))
    throw new UnauthenticatedError('Identity token has no valid subject');
  if (typeof exp !== 'number') throw new UnauthenticatedError('Identity token has no expiry');
  if (typeof iat !== 'number') throw new UnauthenticatedError('Identity token has no issue time');
  if (exp - iat > maxTtl) throw new UnauthenticatedError(`Identity token lives longer than ${maxTtl} seconds`);
  const roleList = Array.isArray(roles) ? roles.filter((role): role is string => typeof role === 'string') : [];
  return { actor: sub, roles: roleList };
}

/**
 * Verifies encoding, algorithm, key id, signature, issuer, expiry, not-before, issue time and
 * lifetime; any doubt is UNAUTHENTICATED, never a partial identity.
 */
export async function verifyIdentityToken(
  token: string,
  keys: KeyRing | string,
  options: VerifyOptions = {},
): Promise<Identity> {
  if (token.length > MAX_TOKEN_LENGTH) throw new UnauthenticatedError('Identity token is too long');
  const segments = token.split('.');
  if (segments.length !== 3 || !segments.every(isCanonicalBase64url))
    throw new UnauthenticatedError('Malformed identity token');
  const ring = asKeyRing(keys);
  const maxTtl = options.maxTtlSeconds ?? DEFAULT_MAX_TTL_SECONDS;
  let result: JWTVerifyResult;
  try {
    result = await jwtVerify(
      token,
      ({ kid }) => {
        const key = kid === undefined ? undefined : ring.byKid.get(kid);
        if (key === undefined) throw new UnauthenticatedError('Identity token names no known key (kid)');
        return encoder.encode(key.secret);
      },
      {
        algorithms: [ALGORITHM],
        issuer: TOKEN_ISSUER,
        requiredClaims: ['sub', 'iat', 'exp'],
        clockTolerance: options.clockSkewSeconds ?? DEFAULT_CLOCK_SKEW_SECONDS,
        // Also refuses an iat in the future beyond the skew.
        maxTokenAge: maxTtl,
        ...(options.now ? { currentDate: options.now } : {}),
      },
    );
  } catch (error) {
    throw unauthenticated(error);
  }
  return identityOf(result.payload, maxTtl);
}

/** The token of an `Authorization: Bearer <jwt>` header, or null when the header is absent. */
export function bearerToken(header: string | undefined): string | null {
  if (header === undefined || header === '') return null;
  const match = /^Bearer ([A-Za-z0-9_.-]+)$/.exec(header.trim());
  if (!match?.[1]) throw new UnauthenticatedError('Authorization header must be "Bearer <token>"');
  return match[1];
}
