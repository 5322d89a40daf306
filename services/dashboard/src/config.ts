import { readAuthConfig, secretEnv } from '@jetcel/identity';
import { DashboardConfigError } from './errors.ts';
import { parseUsers, type DashboardUser } from './users.ts';

export interface DashboardConfig {
  readonly host: string;
  readonly port: number;
  readonly users: ReadonlyMap<string, DashboardUser>;
  /** JETCEL_AUTH_SECRET: the dashboard signs each user's identity token with it. */
  readonly authSecret: string;
  readonly sessionIdleMs: number;
  readonly sessionMaxMs: number;
  /** Adds `Secure` to the session cookie (set it when the dashboard is served over HTTPS). */
  readonly secureCookie: boolean;
  /** How often the live stream tells pages to refresh what they show. */
  readonly refreshMs: number;
  readonly nats: { servers: string[]; user?: string; pass?: string };
}

function positiveInt(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value <= 0) throw new DashboardConfigError(`${name} must be a positive integer`);
  return value;
}

/**
 * Reads the dashboard's environment (secrets also from `NAME_FILE`); refuses to start without
 * users, without an identity secret, or with a `dev-only-` secret outside development mode.
 */
export function readDashboardConfig(input: NodeJS.ProcessEnv = process.env): DashboardConfig {
  const env = secretEnv(input);
  const users = parseUsers(env.JETCEL_DASHBOARD_USERS);
  if (users.size === 0)
    throw new DashboardConfigError('JETCEL_DASHBOARD_USERS lists no user: the dashboard has no anonymous access');
  let secret: string | null;
  try {
    secret = readAuthConfig(env).secret;
  } catch (err) {
    throw new DashboardConfigError(err instanceof Error ? err.message : String(err));
  }
  if (secret === null)
    throw new DashboardConfigError('JETCEL_AUTH_SECRET is not set: the dashboard signs every command with it');
  const port = positiveInt(env, 'JETCEL_DASHBOARD_PORT', 8080);
  if (port > 65535) throw new DashboardConfigError('JETCEL_DASHBOARD_PORT must be a TCP port');
  const secureCookie = env.JETCEL_DASHBOARD_SECURE_COOKIE ?? 'false';
  if (secureCookie !== 'true' && secureCookie !== 'false')
    throw new DashboardConfigError('JETCEL_DASHBOARD_SECURE_COOKIE must be "true" or "false"');
  return {
    host: env.JETCEL_DASHBOARD_HOST || '127.0.0.1',
    port,
    users,
    authSecret: secret,
    sessionIdleMs: positiveInt(env, 'JETCEL_DASHBOARD_SESSION_IDLE_MS', 30 * 60_000),
    sessionMaxMs: positiveInt(env, 'JETCEL_DASHBOARD_SESSION_MAX_MS', 12 * 3_600_000),
    secureCookie: secureCookie === 'true',
    refreshMs: positiveInt(env, 'JETCEL_DASHBOARD_REFRESH_MS', 1000),
    nats: {
      servers: (env.NATS_URL || 'nats://127.0.0.1:4222').split(',').map((url) => url.trim()),
      ...(env.NATS_USER ? { user: env.NATS_USER } : {}),
      ...(env.NATS_PASS ? { pass: env.NATS_PASS } : {}),
    },
  };
}
