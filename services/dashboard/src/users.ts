import { DashboardConfigError } from './errors.ts';
import { hashPassword, isPasswordHash, verifyPassword } from './password.ts';

export interface DashboardUser {
  readonly username: string;
  /** Carried into the identity token the dashboard signs for this user (e.g. "admin"). */
  readonly roles: readonly string[];
  readonly passwordHash: string;
}

const USERNAME = /^[A-Za-z0-9._@-]{1,64}$/;
const ROLE = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * JETCEL_DASHBOARD_USERS: `name:roles:hash` entries separated by commas, roles separated by `+`
 * (empty for none), e.g. `alice:admin:scrypt.16384…,bob::scrypt.16384…`. Only hashes, never passwords.
 */
export function parseUsers(spec: string | undefined): Map<string, DashboardUser> {
  const users = new Map<string, DashboardUser>();
  for (const entry of (spec ?? '').split(',').map((part) => part.trim())) {
    if (entry === '') continue;
    const parts = entry.split(':');
    const [username = '', roleList = '', passwordHash = ''] = parts;
    if (parts.length !== 3)
      throw new DashboardConfigError(`A dashboard user must be "name:roles:hash" (${username || 'entry'})`);
    if (!USERNAME.test(username)) throw new DashboardConfigError(`Invalid dashboard user name "${username}"`);
    if (users.has(username)) throw new DashboardConfigError(`Dashboard user "${username}" is listed twice`);
    const roles = roleList === '' ? [] : roleList.split('+');
    const badRole = roles.find((role) => !ROLE.test(role));
    if (badRole !== undefined)
      throw new DashboardConfigError(`Invalid role "${badRole}" for dashboard user "${username}"`);
    if (!isPasswordHash(passwordHash))
      throw new DashboardConfigError(
        `Dashboard user "${username}" needs a password hash (pnpm --filter @jetcel/dashboard-service hash-password), not a password`,
      );
    users.set(username, { username, roles, passwordHash });
  }
  return users;
}

// Checked against when the user is unknown, so a wrong name costs as much time as a wrong password.
const decoy = hashPassword('decoy-password-for-unknown-users');

/** The user whose password this is, or null; the same work is done for an unknown name. */
export async function authenticate(
  users: ReadonlyMap<string, DashboardUser>,
  username: string,
  password: string,
): Promise<DashboardUser | null> {
  const user = users.get(username);
  const valid = await verifyPassword(password, user?.passwordHash ?? (await decoy));
  return user && valid ? user : null;
}
