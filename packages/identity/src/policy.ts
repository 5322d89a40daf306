import { AuthConfigError, keyRing, parseKeyList, DEFAULT_KID, type KeyRing } from './keys.ts';
import { DEFAULT_MAX_TTL_SECONDS } from './token.ts';

/** What happens to a command that carries no token: allowed as an anonymous actor, or refused. */
export type AnonymousPolicy = 'allow' | 'deny';

export interface AuthConfig {
  /** HS256 keys shared by whoever signs tokens (dashboard, CLI, your API) and the executor; newest first. */
  readonly keys: KeyRing | null;
  readonly anonymous: AnonymousPolicy;
  /** JETCEL_AUTH_MAX_TTL: the longest lifetime (exp - iat, seconds) a token may have. */
  readonly maxTtlSeconds: number;
}

/**
 * The identity keys: JETCEL_AUTH_SECRET (one key, kid "default") or JETCEL_AUTH_SECRETS
 * ("kid1:secret1,kid2:secret2", newest first = signing key); never both. Null when neither is set.
 */
export function readKeyRing(env: NodeJS.ProcessEnv = process.env): KeyRing | null {
  const secret = env.JETCEL_AUTH_SECRET?.trim() || null;
  const list = env.JETCEL_AUTH_SECRETS?.trim() || null;
  if (secret !== null && list !== null)
    throw new AuthConfigError('Set JETCEL_AUTH_SECRET or JETCEL_AUTH_SECRETS, not both');
  if (list !== null) return parseKeyList(list);
  return secret === null ? null : keyRing([{ kid: DEFAULT_KID, secret }]);
}

export function readMaxTtl(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.JETCEL_AUTH_MAX_TTL?.trim();
  if (raw === undefined || raw === '') return DEFAULT_MAX_TTL_SECONDS;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(value) || value <= 0)
    throw new AuthConfigError(`JETCEL_AUTH_MAX_TTL must be a positive number of seconds, not "${raw}"`);
  return value;
}

/**
 * The keys (above), JETCEL_AUTH_MAX_TTL and JETCEL_AUTH_ANONYMOUS=allow|deny, `deny` by default: a
 * caller without a token is refused unless `allow` is asked for (local development). `deny`
 * without a key refuses everything, which is what a misconfigured production deserves.
 */
export function readAuthConfig(env: NodeJS.ProcessEnv = process.env): AuthConfig {
  const keys = readKeyRing(env);
  const maxTtlSeconds = readMaxTtl(env);
  const anonymous = env.JETCEL_AUTH_ANONYMOUS || 'deny';
  if (anonymous !== 'allow' && anonymous !== 'deny')
    throw new TypeError(`JETCEL_AUTH_ANONYMOUS must be "allow" or "deny", not "${anonymous}"`);
  return { keys, anonymous, maxTtlSeconds };
}
