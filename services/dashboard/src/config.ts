import { readKeyRing, secretEnv, type KeyRing } from '@jetcel/identity';
import { DashboardConfigError } from './errors.ts';
import type { LoginLimits } from './login-limiter.ts';
import { parseUsers, type DashboardUser } from './users.ts';

export interface DashboardConfig {
  readonly host: string;
  readonly port: number;
  readonly users: ReadonlyMap<string, DashboardUser>;
  /** JETCEL_AUTH_SECRET(S): the dashboard signs each user's identity token with the newest key. */
  readonly authKeys: KeyRing;
  readonly sessionIdleMs: number;
  readonly sessionMaxMs: number;
  /** `Secure` on the session cookie: always, unless the dashboard is served on localhost. */
  readonly secureCookie: boolean;
  readonly loginLimits: LoginLimits;
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

function isLoopback(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  return host === 'localhost' || host.endsWith('.localhost') || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}

/**
 * Secure unless the browser reaches the dashboard on localhost: decided by JETCEL_DASHBOARD_PUBLIC_URL
 * (the address users open) when set, else by the listen address. A plain-http public URL on
 * another host is refused: a browser would drop the Secure cookie, and without it the session
 * would travel in clear.
 */
function secureCookieFor(listenHost: string, publicUrl: string | undefined): boolean {
  if (publicUrl === undefined || publicUrl === '') return !isLoopback(listenHost);
  let url: URL;
  try {
    url = new URL(publicUrl);
  } catch {
    throw new DashboardConfigError(`JETCEL_DASHBOARD_PUBLIC_URL is not a URL: "${publicUrl}"`);
  }
  if (url.protocol === 'https:') return true;
  if (url.protocol !== 'http:') throw new DashboardConfigError('JETCEL_DASHBOARD_PUBLIC_URL must be http(s)://…');
  if (isLoopback(url.hostname)) return false;
  throw new DashboardConfigError(
    `JETCEL_DASHBOARD_PUBLIC_URL ${publicUrl} is plain HTTP on a host other than localhost: serve the dashboard over HTTPS`,
  );
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
  let keys: KeyRing | null;
  try {
    keys = readKeyRing(env);
  } catch (err) {
    throw new DashboardConfigError(err instanceof Error ? err.message : String(err));
  }
  if (keys === null)
    throw new DashboardConfigError(
      'Neither JETCEL_AUTH_SECRET nor JETCEL_AUTH_SECRETS is set: the dashboard signs every command with it',
    );
  const port = positiveInt(env, 'JETCEL_DASHBOARD_PORT', 8080);
  if (port > 65535) throw new DashboardConfigError('JETCEL_DASHBOARD_PORT must be a TCP port');
  if (env.JETCEL_DASHBOARD_SECURE_COOKIE !== undefined)
    throw new DashboardConfigError(
      'JETCEL_DASHBOARD_SECURE_COOKIE is no longer read: the cookie is Secure unless the dashboard is served on localhost (JETCEL_DASHBOARD_PUBLIC_URL)',
    );
  const host = env.JETCEL_DASHBOARD_HOST || '127.0.0.1';
  return {
    host,
    port,
    users,
    authKeys: keys,
    sessionIdleMs: positiveInt(env, 'JETCEL_DASHBOARD_SESSION_IDLE_MS', 30 * 60_000),
    sessionMaxMs: positiveInt(env, 'JETCEL_DASHBOARD_SESSION_MAX_MS', 12 * 3_600_000),
    secureCookie: secureCookieFor(host, env.JETCEL_DASHBOARD_PUBLIC_URL),
    loginLimits: {
      userFailures: positiveInt(env, 'JETCEL_DASHBOARD_LOGIN_USER_FAILURES', 5),
      ipFailures: positiveInt(env, 'JETCEL_DASHBOARD_LOGIN_IP_FAILURES', 20),
      windowMs: positiveInt(env, 'JETCEL_DASHBOARD_LOGIN_WINDOW_MS', 15 * 60_000),
    },
    refreshMs: positiveInt(env, 'JETCEL_DASHBOARD_REFRESH_MS', 1000),
    nats: {
      servers: (env.NATS_URL || 'nats://127.0.0.1:4222').split(',').map((url) => url.trim()),
      ...(env.NATS_USER ? { user: env.NATS_USER } : {}),
      ...(env.NATS_PASS ? { pass: env.NATS_PASS } : {}),
    },
  };
}
