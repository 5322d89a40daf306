// A nats-server running deploy/nats/permissions.conf, with a fresh random password per role, and
// helpers to connect and spawn services as a role. Used by permissions.test.ts.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connectBus, type Bus, type BusStatusEvent } from '@jetcel/bus';
import { spawnService, startNats, type NatsServerHandle, type ServiceProcess } from '@jetcel/testing';
import { NATS_USERS } from '@jetcel/secrets-job';

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const PERMISSIONS_FILE = resolve(root, 'deploy/nats/permissions.conf');
const README_FILE = resolve(root, 'docs/operating.md');

// Every user of deploy/nats/permissions.conf (the secrets job's list, which a compose test checks
// against that file), and a client application with its own inbox prefix, added the way
// docs/operating.md "Permissions" shows.
export const ROLES = [...NATS_USERS, 'app-billing'] as const;
export type Role = (typeof ROLES)[number];

/** The environment variable the server config reads a role's password from: JETCEL_PASS_WORKER_HEAVY… */
export const passwordVariable = (role: Role): string => `JETCEL_PASS_${role.toUpperCase().replaceAll('-', '_')}`;

/** Starts with a letter, then hex: a value nats-server's config-variable parser keeps as a string. */
const newPassword = (): string => `p${randomBytes(16).toString('hex')}`;

export interface SecuredNats {
  server: NatsServerHandle;
  passwords: Record<Role, string>;
}

/**
 * Starts nats-server with permissions.conf as its config. The passwords reach the server the way
 * they would in production: as environment variables of the server process (config variables).
 */
export async function startSecuredNats(): Promise<SecuredNats> {
  const passwords = Object.fromEntries(ROLES.map((role) => [role, newPassword()])) as Record<Role, string>;
  // startNats spawns the server with process.env: set the variables for it (and only the server reads them).
  for (const role of ROLES) process.env[passwordVariable(role)] = passwords[role];
  const config = await readFile(PERMISSIONS_FILE, 'utf8');
  const appUser = await readmeAppUser();
  assert.ok(config.includes('users = ['), 'permissions.conf lists its users in `users = [`');
  const server = await startNats({ config: config.replace('users = [', `users = [\n${appUser}`) });
  return { server, passwords };
}

/** The client-application user of docs/operating.md "Permissions" (a ```conf block for `app-billing`), as written there. */
async function readmeAppUser(): Promise<string> {
  const readme = await readFile(README_FILE, 'utf8');
  const block = /```conf\n(\s*\{\s*\n\s*user: app-billing\n[\s\S]*?)```/.exec(readme)?.[1];
  assert.ok(block, 'docs/operating.md "Permissions" shows the app-billing user as a ```conf block');
  return block;
}

export interface RoleBus {
  bus: Bus;
  /** Every connection status event so far (permission violations arrive as `error`). */
  events: BusStatusEvent[];
}

export async function connectAs(nats: SecuredNats, role: Role, name = `probe-${role}`): Promise<RoleBus> {
  const events: BusStatusEvent[] = [];
  const bus = await connectBus({
    servers: nats.server.url,
    name,
    user: role,
    pass: nats.passwords[role],
    apiTimeoutMs: 3_000,
    onStatus: (event) => events.push(event),
  });
  return { bus, events };
}

/** The environment a service process gets to log in as `role`. */
export const roleEnv = (nats: SecuredNats, role: Role): Record<string, string> => ({
  NATS_URL: nats.server.url,
  NATS_USER: role,
  NATS_PASS: nats.passwords[role],
});

/** The executor's, as compose.yaml sets it: it serves as `executor` and relays as `executor-relay`. */
export const executorEnv = (nats: SecuredNats): Record<string, string> => ({
  ...roleEnv(nats, 'executor'),
  NATS_RELAY_USER: 'executor-relay',
  NATS_RELAY_PASS: nats.passwords['executor-relay'],
});

export async function spawnAs(
  service: 'executor' | 'worker' | 'beat' | 'topology' | 'dashboard',
  env: Record<string, string>,
  options: { args?: string[]; readyLine?: RegExp } = {},
): Promise<ServiceProcess> {
  return spawnService({
    cwd: resolve(root, 'services', service),
    entry: 'src/main.ts',
    args: options.args ?? [],
    // The suite migrates the reference domain only; the workspace's jetcel.config.ts names more.
    env: { JETCEL_DOMAINS: '@jetcel/reference', ...env },
    ...(options.readyLine ? { readyLine: options.readyLine } : {}),
    // five services start at once in the first test: generous on a loaded machine
    timeoutMs: 60_000,
  });
}

/** True when `err` (or one of its causes) is the server refusing a publish or subscribe. */
export function isPermissionViolation(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 6; e = e.cause, depth++) {
    if (e.name === 'PermissionViolationError' || /permissions violation/i.test(e.message)) return true;
  }
  return false;
}

/** Resolves with the rejection of `operation`, or throws if it succeeded. */
export async function rejection(operation: Promise<unknown>, what: string): Promise<unknown> {
  try {
    await operation;
  } catch (err) {
    return err;
  }
  throw new Error(`${what} succeeded, but it must be refused`);
}

/** Waits (briefly) for the server to report a permission violation on `subject` to this connection. */
export async function violationReported(role: RoleBus, subject: string, timeoutMs = 2_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const seen = role.events.some(
      (event) =>
        event.type === 'error' && isPermissionViolation(event.data) && String(event.data).includes(`"${subject}"`),
    );
    if (seen || Date.now() > deadline) return seen;
    await role.bus.nc.flush().catch(() => {});
    await new Promise((done) => setTimeout(done, 25));
  }
}

/**
 * JetStream API subjects, for probing what a role may do. They are the server's protocol, not
 * jetcel names (those live in @jetcel/contracts), so they are spelled out here for the test only.
 */
export const jsApi = {
  info: '$JS.API.INFO',
  streamInfo: (stream: string) => `$JS.API.STREAM.INFO.${stream}`,
  streamMsgGet: (stream: string) => `$JS.API.STREAM.MSG.GET.${stream}`,
  directGet: (stream: string) => `$JS.API.DIRECT.GET.${stream}`,
};
