export {
  type Identity,
  type SignOptions,
  type VerifyOptions,
  ADMIN_ROLE,
  TOKEN_ISSUER,
  DEFAULT_MAX_TTL_SECONDS,
  DEFAULT_CLOCK_SKEW_SECONDS,
  signIdentityToken,
  verifyIdentityToken,
  bearerToken,
} from './token.ts';
export {
  type IdentityKey,
  type KeyRing,
  AuthConfigError,
  DEFAULT_KID,
  asKeyRing,
  keyRing,
  parseKeyList,
} from './keys.ts';
export { isCanonicalBase64url } from './canonical.ts';
export { type AnonymousPolicy, type AuthConfig, readAuthConfig, readKeyRing, readMaxTtl } from './policy.ts';
export {
  DEV_ONLY_PREFIX,
  SecretConfigError,
  assertNoDevOnlySecrets,
  developmentMode,
  resolveSecretFiles,
  secretEnv,
} from './secrets.ts';
