export { NATS_USERS, ensureSecrets, type SecretsReport } from './secrets.ts';
