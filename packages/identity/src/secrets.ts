import { readFileSync } from 'node:fs';

/** The prefix of every value that ships in a development file and must never protect a deployment. */
export const DEV_ONLY_PREFIX = 'dev-only-';

/** A variable that holds a password, a secret or a URL that may carry one. */
const SECRET_NAME = /(_PASS|_PASSWORD|_SECRET|_SECRETS|_URL)$|^JETCEL_PASS_|^JETCEL_DASHBOARD_USERS$/;

/** A service refuses to start: a secret is a publicly known development value, or cannot be read. */
export class SecretConfigError extends Error {
  readonly code: 'DEV_ONLY_SECRET' | 'SECRET_FILE';
  constructor(code: SecretConfigError['code'], message: string) {
    super(message);
    this.name = 'SecretConfigError';
    this.code = code;
  }
}

/** JETCEL_DEV=1: development mode, asked for explicitly (`pnpm dev`, test stacks with development values). */
export function developmentMode(env: NodeJS.ProcessEnv): boolean {
  return env.JETCEL_DEV === '1' || env.JETCEL_DEV === 'true';
}

/**
 * `NAME_FILE=/path` sets NAME to the file's content (without its trailing newline), for each secret
 * variable (`*_PASS`, `*_SECRET`, `*_SECRETS`, `*_URL`, `JETCEL_PASS_*`, JETCEL_DASHBOARD_USERS): secrets stay out of the
 * environment a container is created with. Setting both NAME and NAME_FILE is an error.
 */
export function resolveSecretFiles(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const resolved: NodeJS.ProcessEnv = { ...env };
  for (const [key, path] of Object.entries(env)) {
    if (!key.endsWith('_FILE') || !path) continue;
    const name = key.slice(0, -'_FILE'.length);
    if (!SECRET_NAME.test(name)) continue;
    if (env[name]) throw new SecretConfigError('SECRET_FILE', `set ${name} or ${key}, not both`);
    try {
      resolved[name] = readFileSync(path, 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      const reason = err instanceof Error && 'code' in err ? String(err.code) : String(err);
      throw new SecretConfigError('SECRET_FILE', `${key}: cannot read ${path} (${reason})`);
    }
  }
  return resolved;
}

function devOnlyValue(name: string, value: string): boolean {
  if (value.startsWith(DEV_ONLY_PREFIX)) return true;
  // a key list ("kid:secret,kid:secret", JETCEL_AUTH_SECRETS): each secret counts
  if (name.endsWith('_SECRETS'))
    return value.split(',').some((item) =>
      item
        .slice(item.indexOf(':') + 1)
        .trim()
        .startsWith(DEV_ONLY_PREFIX),
    );
  if (!name.endsWith('_URL')) return false;
  try {
    return decodeURIComponent(new URL(value).password).startsWith(DEV_ONLY_PREFIX);
  } catch {
    return false;
  }
}

/**
 * Refuses a secret variable whose value (or a URL's password) starts with `dev-only-` unless
 * development mode is explicit: those values are printed in the repository, so they protect nothing.
 */
export function assertNoDevOnlySecrets(env: NodeJS.ProcessEnv): void {
  if (developmentMode(env)) return;
  const found = Object.entries(env)
    .filter(([name, value]) => SECRET_NAME.test(name) && value !== undefined && devOnlyValue(name, value))
    .map(([name]) => name)
    .sort();
  if (found.length > 0)
    throw new SecretConfigError(
      'DEV_ONLY_SECRET',
      `${found.join(', ')} ${found.length === 1 ? 'is a' : 'are'} publicly known development value${found.length === 1 ? '' : 's'} ` +
        `(${DEV_ONLY_PREFIX}…): set a secret of your own, or JETCEL_DEV=1 on a development machine`,
    );
}

/** The environment with NAME_FILE secrets read in, refused if it holds a `dev-only-` secret outside development. */
export function secretEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const resolved = resolveSecretFiles(env);
  assertNoDevOnlySecrets(resolved);
  return resolved;
}
