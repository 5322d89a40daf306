/** One HS256 secret and the key id (`kid` header) that names it in the tokens it signs. */
export interface IdentityKey {
  readonly kid: string;
  readonly secret: string;
}

/** Secrets by key id: the first (newest) signs, every listed one verifies — rotation without a cut-off. */
export interface KeyRing {
  readonly signing: IdentityKey;
  readonly byKid: ReadonlyMap<string, IdentityKey>;
}

/** The key id of a lone JETCEL_AUTH_SECRET (and of a plain secret handed to sign/verify). */
export const DEFAULT_KID = 'default';
const MIN_SECRET_LENGTH = 32;
const KID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

/** Identity keys or token limits configured wrongly: the service refuses to start. */
export class AuthConfigError extends Error {
  readonly code = 'AUTH_CONFIG';
  constructor(message: string) {
    super(message);
    this.name = 'AuthConfigError';
  }
}

/** A ring of keys, newest first; refuses an empty list, a malformed or repeated kid and short secrets. */
export function keyRing(keys: readonly IdentityKey[]): KeyRing {
  const [signing] = keys;
  if (signing === undefined) throw new AuthConfigError('An identity key ring needs at least one key');
  const byKid = new Map<string, IdentityKey>();
  for (const key of keys) {
    if (!KID_PATTERN.test(key.kid))
      throw new AuthConfigError(`Identity key id "${key.kid}" must be 1-64 characters of A-Z a-z 0-9 . _ -`);
    if (byKid.has(key.kid)) throw new AuthConfigError(`Identity key id "${key.kid}" is listed twice`);
    if (key.secret.length < MIN_SECRET_LENGTH)
      throw new AuthConfigError(
        `The secret of identity key "${key.kid}" must be at least ${MIN_SECRET_LENGTH} characters long`,
      );
    byKid.set(key.kid, key);
  }
  return { signing, byKid };
}

/** A plain secret is the one-key ring `{default: secret}`; a ring is itself. */
export function asKeyRing(keys: KeyRing | string): KeyRing {
  return typeof keys === 'string' ? keyRing([{ kid: DEFAULT_KID, secret: keys }]) : keys;
}

/** `kid1:secret1,kid2:secret2` (newest first). A secret may contain ":" but not ",". */
export function parseKeyList(list: string): KeyRing {
  const keys = list.split(',').map((entry, index) => {
    const separator = entry.indexOf(':');
    if (separator <= 0)
      throw new AuthConfigError(
        `JETCEL_AUTH_SECRETS entry ${index + 1} must be "<kid>:<secret>" (newest first, comma-separated)`,
      );
    return { kid: entry.slice(0, separator).trim(), secret: entry.slice(separator + 1).trim() };
  });
  return keyRing(keys);
}
