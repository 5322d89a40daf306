import { assertUsableSecret } from './token.ts';

/** What happens to a command that carries no token: allowed as an anonymous actor, or refused. */
export type AnonymousPolicy = 'allow' | 'deny';

export interface AuthConfig {
  /** HS256 secret shared by whoever signs tokens (dashboard, CLI, your API) and the executor. */
  readonly secret: string | null;
  readonly anonymous: AnonymousPolicy;
}

/**
 * JETCEL_AUTH_SECRET (≥ 32 characters) and JETCEL_AUTH_ANONYMOUS=allow|deny, `deny` by default:
 * a caller without a token is refused unless `allow` is asked for (local development). `deny`
 * without a secret refuses everything, which is what a misconfigured production deserves.
 */
export function readAuthConfig(env: NodeJS.ProcessEnv = process.env): AuthConfig {
  const secret = env.JETCEL_AUTH_SECRET?.trim() || null;
  if (secret !== null) assertUsableSecret(secret);
  const anonymous = env.JETCEL_AUTH_ANONYMOUS || 'deny';
  if (anonymous !== 'allow' && anonymous !== 'deny')
    throw new TypeError(`JETCEL_AUTH_ANONYMOUS must be "allow" or "deny", not "${anonymous}"`);
  return { secret, anonymous };
}
