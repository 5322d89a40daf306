export {
  type Identity,
  ADMIN_ROLE,
  TOKEN_ISSUER,
  assertUsableSecret,
  signIdentityToken,
  verifyIdentityToken,
  bearerToken,
} from './token.ts';
export { type AnonymousPolicy, type AuthConfig, readAuthConfig } from './policy.ts';
export {
  DEV_ONLY_PREFIX,
  SecretConfigError,
  assertNoDevOnlySecrets,
  developmentMode,
  resolveSecretFiles,
  secretEnv,
} from './secrets.ts';
