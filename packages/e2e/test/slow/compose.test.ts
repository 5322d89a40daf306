import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { hashPassword } from '@jetcel/dashboard-service';
import {
  createTestDatabase,
  freePort,
  spawnService,
  startNats,
  type NatsServerHandle,
  type TestDatabase,
} from '@jetcel/testing';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
const composeFile = resolve(root, 'compose.yaml');
const run = promisify(execFile);

interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[];
  depends_on?: unknown;
  environment?: Record<string, string>;
  entrypoint?: string[];
  ports?: string[];
  volumes?: string[];
  user?: string;
}
const compose = parse(readFileSync(composeFile, 'utf8'), { merge: true }) as {
  name?: string;
  services: Record<string, ComposeService>;
};

test('compose.yaml is accepted by docker-compose config (Compose v1)', async (t) => {
  const binary = ['/usr/bin/docker-compose', '/usr/local/bin/docker-compose'].find((path) => existsSync(path));
  if (!binary) {
    if (process.env.CI) assert.fail("docker-compose is not installed; .ci/run installs Debian's docker-compose");
    t.skip('SKIPPED LOUDLY: docker-compose is not installed (apt-get install -y docker-compose)');
    return;
  }
  const { stdout } = await run(binary, ['-f', composeFile, 'config']);
  for (const service of [
    'secrets',
    'nats',
    'postgres',
    'migrate',
    'topology',
    'cloud',
    'executor',
    'worker-regular',
    'worker-heavy',
    'worker-background',
    'beat',
    'prometheus',
    'dashboard',
  ]) {
    assert.match(stdout, new RegExp(`^  ${service}:$`, 'm'), `service ${service} is in the resolved file`);
  }
});

test('compose.yaml pins NATS exactly and has no top-level name', () => {
  assert.equal(compose.name, undefined);
  assert.equal(compose.services.nats?.image, 'nats:2.9.10-alpine');
  assert.match(String(compose.services.postgres?.image), /^postgres:15\.\d+$/);
});

test('the executor in compose.yaml verifies identity tokens with the generated secret and denies callers without one', () => {
  const environment = compose.services.executor?.environment ?? {};
  assert.equal(environment.JETCEL_AUTH_SECRET_FILE, '/secrets/auth-secret');
  assert.equal(environment.JETCEL_AUTH_SECRET, undefined);
  assert.equal(environment.JETCEL_AUTH_ANONYMOUS, undefined, 'the default, deny');
});

const composeText = readFileSync(composeFile, 'utf8');

test('compose.yaml holds no secret: no dev-only value, no fallback, every secret read from the secrets volume', () => {
  assert.doesNotMatch(composeText, /dev-only/);
  const fallbacks = [...composeText.matchAll(/\$\{([A-Z_]+):-/g)].map((match) => match[1] ?? '');
  assert.deepEqual(
    // not secrets: the host ports, and the address users open the dashboard at (decides Secure cookies)
    fallbacks.filter((name) => !/^JETCEL_PUBLISH_[A-Z]+_PORT$|^JETCEL_DASHBOARD_PUBLIC_URL$/.test(name)),
    [],
    'no variable with a built-in fallback but the published ports and the dashboard URL',
  );
  for (const [name, service] of Object.entries(compose.services)) {
    for (const [key, value] of Object.entries(service.environment ?? {})) {
      if (/(_PASS|_PASSWORD|_SECRET|_USERS)$/.test(key)) assert.fail(`${name}: ${key} is set in compose.yaml`);
      if (key.endsWith('_FILE')) assert.match(value, /^\/secrets\/[a-z-]+$/, `${name}: ${key}`);
      if (key === 'DATABASE_URL') assert.doesNotMatch(value, /:[^/@]*@/, `${name}: no password in DATABASE_URL`);
    }
  }
  assert.equal(compose.services.postgres?.environment?.POSTGRES_PASSWORD_FILE, '/secrets/postgres-password');
});

test('the secrets job runs once before every service that reads the secrets volume', () => {
  const secrets = compose.services.secrets;
  assert.equal(String((secrets as { restart?: string }).restart), 'no');
  const dependsOn = (name: string): string[] => {
    const value = compose.services[name]?.depends_on ?? [];
    return Array.isArray(value) ? (value as string[]) : Object.keys(value);
  };
  const after = (name: string, seen = new Set<string>()): Set<string> => {
    for (const dependency of dependsOn(name)) if (!seen.has(dependency)) after(dependency, seen.add(dependency));
    return seen;
  };
  for (const [name, service] of Object.entries(compose.services)) {
    if (name === 'secrets' || !(service.volumes ?? []).some((volume) => volume.startsWith('secrets:'))) continue;
    assert.ok(after(name).has('secrets'), `${name} starts after the secrets job`);
    assert.ok(service.volumes?.includes('secrets:/secrets:ro'), `${name} mounts the secrets read-only`);
  }
  const condition = (compose.services.nats?.depends_on as Record<string, { condition: string }>).secrets;
  assert.equal(condition?.condition, 'service_completed_successfully');
});

test('every NATS user of permissions.conf gets a generated password the server reads', async () => {
  const { NATS_USERS } = await import('@jetcel/secrets-job');
  const conf = readFileSync(resolve(root, 'deploy/nats/permissions.conf'), 'utf8');
  const users = [...conf.matchAll(/user:\s*"?([\w-]+)"?/g)].map((match) => match[1]);
  for (const user of users) assert.ok((NATS_USERS as readonly string[]).includes(user ?? ''), `${user} is generated`);
  assert.match(String(compose.services.nats?.entrypoint), /\. \/secrets\/nats\.env/);
  for (const [name, service] of Object.entries(compose.services)) {
    const user = service.environment?.NATS_USER;
    if (user) assert.equal(service.environment?.NATS_PASS_FILE, `/secrets/nats-pass-${user}`, name);
  }
});

test('compose publishes its ports on 127.0.0.1 only, and not the NATS monitoring port', () => {
  const published = Object.entries(compose.services).flatMap(([name, service]) =>
    (service.ports ?? []).map((port) => ({ name, port: String(port) })),
  );
  assert.ok(published.length >= 4);
  for (const { name, port } of published)
    assert.match(port, /^127\.0\.0\.1:(\d+|\$\{\w+:-\d+\}):\d+$/, `${name}: ${port}`);
  assert.ok(!published.some(({ port }) => port.endsWith(':8222')), '8222 is not published');
  // /metrics listens on every interface inside the network only for Prometheus; 9464 is never published.
  assert.ok(!published.some(({ port }) => port.endsWith(':9464')));
});

test('the executor in compose.yaml serves requests as `executor` and relays as `executor-relay`', () => {
  const environment = (compose.services.executor as { environment?: Record<string, string> }).environment ?? {};
  assert.equal(environment.NATS_USER, 'executor');
  assert.equal(environment.NATS_RELAY_USER, 'executor-relay');
  assert.equal(environment.NATS_RELAY_PASS_FILE, '/secrets/nats-pass-executor-relay', 'the relay user has a password');
  assert.equal(environment.NATS_PASS_FILE, '/secrets/nats-pass-executor', 'each user its own password');
});

test('the prometheus service scrapes /metrics of every long-running jetcel service', () => {
  const config = parse(readFileSync(resolve(root, 'deploy/prometheus/prometheus.yml'), 'utf8')) as {
    scrape_configs: Array<{ metrics_path?: string; static_configs: Array<{ targets: string[] }> }>;
  };
  const targets = config.scrape_configs.flatMap((job) => job.static_configs.flatMap((group) => group.targets));
  const expected = Object.entries(compose.services)
    .filter(
      ([name, service]) =>
        service.image === 'jetcel:local' && !['secrets', 'migrate', 'topology', 'cloud', 'dashboard'].includes(name),
    )
    .map(([name, service]) => {
      const port = service.environment?.JETCEL_METRICS_PORT;
      assert.match(String(port), /^\d+$/, `${name} sets JETCEL_METRICS_PORT`);
      return `${name}:${port}`;
    });
  assert.deepEqual(targets.sort(), expected.sort());
  assert.ok(config.scrape_configs.every((job) => (job.metrics_path ?? '/metrics') === '/metrics'));
  assert.match(String(compose.services.prometheus?.image), /^prom\/prometheus:v\d+\.\d+\.\d+$/);
});

test('the dashboard in compose.yaml signs with the executor secret, as its own NATS user, with hashed users', () => {
  const dashboard = compose.services.dashboard?.environment ?? {};
  assert.equal(dashboard.JETCEL_AUTH_SECRET_FILE, compose.services.executor?.environment?.JETCEL_AUTH_SECRET_FILE);
  assert.equal(dashboard.NATS_USER, 'dashboard');
  assert.equal(dashboard.JETCEL_DASHBOARD_USERS_FILE, '/secrets/dashboard-users');
});

let nats: NatsServerHandle;
let database: TestDatabase;
let env: Record<string, string>;
before(async () => {
  // What the image does after `pnpm install` (deploy/Dockerfile): the commands below run the bundles.
  const targets = new Set(
    Object.entries(compose.services)
      .filter(([, service]) => service.image === 'jetcel:local')
      .map(([name]) => name.replace(/^worker-.*/, 'worker')),
  );
  await run(process.execPath, ['--import', 'tsx', 'scripts/build.ts', ...targets], { cwd: root });
  nats = await startNats();
  database = await createTestDatabase({ prefix: 'compose' });
  env = {
    NATS_URL: nats.url,
    DATABASE_URL: database.url,
    CLOUD_URL: 'http://127.0.0.1:1',
    CLOUD_PORT: String(await freePort()),
    JETCEL_DASHBOARD_PORT: String(await freePort()),
    JETCEL_DASHBOARD_USERS: `admin:admin:${await hashPassword('compose-test')}`,
    JETCEL_AUTH_SECRET: 'compose-test-secret-0123456789-abcdefgh',
    JETCEL_SECRETS_DIR: mkdtempSync(join(tmpdir(), 'jetcel-compose-secrets-')),
    LOG_LEVEL: 'info',
    // The image carries no jetcel.config.ts (deploy/Dockerfile), so its services run the default
    // domain list; here, at the repository root, the bundles would find the workspace's config file.
    JETCEL_DOMAINS: '@jetcel/reference',
  };
});
after(async () => {
  await database?.drop();
  await nats?.[Symbol.asyncDispose]();
});

/** A compose command split into node's options, the service's bundle and the service's arguments. */
function parseCommand(name: string): { nodeOptions: string[]; entry: string; args: string[] } {
  const command = compose.services[name]?.command;
  assert.ok(command && command[0] === 'node', `${name} runs node`);
  const at = command.findIndex((part, index) => index > 0 && !part.startsWith('-'));
  const entry = command[at] ?? '';
  assert.equal(entry, `services/${name.replace(/^worker-.*/, 'worker')}/dist/main.js`, `${name} runs its bundle`);
  return { nodeOptions: command.slice(1, at), entry, args: command.slice(at + 1) };
}

test('every jetcel service in compose.yaml runs its bundle; the workers with the same V8 options', () => {
  const names = Object.entries(compose.services)
    .filter(([, service]) => service.image === 'jetcel:local')
    .map(([name]) => name);
  for (const name of names) {
    const { nodeOptions } = parseCommand(name);
    if (!name.startsWith('worker-')) assert.deepEqual(nodeOptions, [], `${name}: no node options`);
  }
  const workers = names.filter((name) => name.startsWith('worker-')).map((name) => parseCommand(name).nodeOptions);
  assert.equal(workers.length, 3);
  assert.ok(workers[0]?.includes('--max-semi-space-size=8'), 'workers set --max-semi-space-size');
  for (const options of workers) assert.deepEqual(options, workers[0]);
});

/** Runs a compose service's command on this machine, from the repository root, as the image would. */
async function startCommand(name: string) {
  const { nodeOptions, entry, args } = parseCommand(name);
  assert.ok(existsSync(resolve(root, entry)), `${name}: ${entry} was built`);
  return spawnService({ cwd: root, entry, args, nodeOptions, env, timeoutMs: 30_000 });
}

test('every one-shot job in compose.yaml runs to completion here (secrets, migrate, then topology)', async () => {
  for (const name of ['secrets', 'migrate', 'topology']) {
    const job = await startCommand(name);
    assert.equal(await job.exited, 0, `${name} exited 0:\n${job.output().join('\n')}`);
  }
});

test('every long-running service command in compose.yaml starts here and stops on SIGTERM', async () => {
  const ready: Record<string, RegExp> = {
    cloud: /cloud listening on/,
    executor: /"executor ready"/,
    'worker-regular': /"worker ready"/,
    'worker-heavy': /"worker ready"/,
    'worker-background': /"worker ready"/,
    beat: /"beat ready"/,
    dashboard: /"dashboard ready"/,
  };
  const jetcelServices = Object.entries(compose.services)
    .filter(([, service]) => service.image === 'jetcel:local')
    .map(([name]) => name);
  assert.deepEqual(
    jetcelServices.filter((name) => !['secrets', 'migrate', 'topology'].includes(name)).sort(),
    Object.keys(ready).sort(),
  );
  for (const [name, line] of Object.entries(ready)) {
    const service = await startCommand(name);
    await service.waitForLine(line, 30_000);
    assert.equal(await service.stop(), 0, `${name} stops cleanly on SIGTERM`);
  }
});
