import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hashPassword } from '@jetcel/dashboard-service';

/** Every NATS user of deploy/nats/permissions.conf; nats-server reads each password as JETCEL_PASS_<USER>. */
export const NATS_USERS = [
  'client',
  'executor',
  'executor-relay',
  'worker-regular',
  'worker-heavy',
  'worker-background',
  'beat',
  'topology',
  'operator',
  'dashboard',
] as const;

/** The dashboard's first user, created with a generated password. */
const ADMIN_USER = 'admin';

export interface SecretsReport {
  /** The files written by this run (none when every secret already existed). */
  readonly created: string[];
  /** The dashboard admin's password, only on the run that created it. */
  readonly adminPassword?: string;
}

/**
 * 32 random characters: a letter, then letters, digits, `-` and `_`. nats-server re-parses a
 * variable's value as config text, and that is the only alphabet it keeps whole.
 */
function randomPassword(): string {
  const letters = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
  const first = letters[randomBytes(1)[0]! % letters.length] ?? 'j';
  return first + randomBytes(24).toString('base64url').slice(0, 31);
}

const envName = (user: string): string => `JETCEL_PASS_${user.toUpperCase().replaceAll('-', '_')}`;

/**
 * Makes sure `dir` holds every secret of a compose deployment, generating only those missing: the
 * identity signing secret, one password per NATS user (and `nats.env`, all of them for
 * nats-server), the PostgreSQL password with the DATABASE_URL that carries it, and the dashboard's
 * first user. Each file is written whole (temporary file, then rename) and readable by its owner
 * only; `owner` (uid, gid) takes them over when this runs as root.
 */
export async function ensureSecrets(
  dir: string,
  options: { databaseUrl: string; owner?: { uid: number; gid: number } },
): Promise<SecretsReport> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const created: string[] = [];
  const write = (name: string, content: string): void => {
    const path = join(dir, name);
    writeFileSync(`${path}.tmp`, `${content}\n`, { mode: 0o600 });
    if (options.owner) chownSync(`${path}.tmp`, options.owner.uid, options.owner.gid);
    renameSync(`${path}.tmp`, path);
  };
  const ensure = (name: string, make: () => string): string => {
    const path = join(dir, name);
    if (existsSync(path)) return readFileSync(path, 'utf8').trim();
    const value = make();
    write(name, value);
    created.push(name);
    return value;
  };
  if (options.owner) chownSync(dir, options.owner.uid, options.owner.gid);
  ensure('auth-secret', () => randomBytes(32).toString('base64url'));
  const nats = NATS_USERS.map((user) => `${envName(user)}=${ensure(`nats-pass-${user}`, randomPassword)}`);
  write('nats.env', nats.join('\n'));
  const postgres = ensure('postgres-password', randomPassword);
  ensure('database-url', () => {
    const url = new URL(options.databaseUrl);
    url.password = postgres;
    return url.toString();
  });
  let adminPassword: string | undefined;
  if (!existsSync(join(dir, 'dashboard-users'))) {
    adminPassword = randomPassword();
    const hash = await hashPassword(adminPassword);
    ensure('dashboard-users', () => `${ADMIN_USER}:admin:${hash}`);
  }
  return { created, ...(adminPassword ? { adminPassword } : {}) };
}
