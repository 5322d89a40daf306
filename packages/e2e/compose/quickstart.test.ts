import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connectBus, requestJson, type Bus } from '@jetcel/bus';
import type { Reply } from '@jetcel/contracts';
import { freePort } from '@jetcel/testing';
import { composeCommand, DOCKER, dockerAnswers, imageExists, run, waitFor } from './docker.ts';

// `docker compose up` for real: the image built from deploy/Dockerfile, compose.yaml unchanged, and
// the README's quick-start lines as written (the nats CLI's requests sent through nats.js).
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const readme = readFileSync(resolve(root, 'README.md'), 'utf8');
const project = 'jetcel-compose-test';
/** Images compose.yaml pulls, and the jetcel image's base. */
const PULLED = ['nats:2.9.10-alpine', 'postgres:15.8', 'prom/prometheus:v2.53.3', 'node:20.19-bookworm-slim'];

const skipReason = (await dockerAnswers())
  ? null
  : 'SKIPPED LOUDLY: no docker daemon answers (start dockerd, e.g. `dockerd --storage-driver vfs`); `docker compose up` was NOT tested';
if (skipReason) process.stderr.write(`\n${'!'.repeat(100)}\n${skipReason}\n${'!'.repeat(100)}\n\n`);

let compose: string[] = [];
let env: Record<string, string> = {};
const ports = { nats: 0, dashboard: 0, prometheus: 0, cloud: 0 };
let bus: Bus | undefined;
let upStartedAt = 0;
const timings: Record<string, number> = {};

/** `docker compose …` in the repository, on this test's own project and ports. */
const dc = (args: string[], timeoutMs = 300_000) =>
  run(compose[0] ?? DOCKER, [...compose.slice(1), ...args], { cwd: root, env, timeoutMs });

/** A README line `docker compose exec …`, run as written (with Compose v1 when v2 is missing). */
async function readmeCommand(pattern: RegExp, what: string): Promise<string> {
  const line = pattern.exec(readme)?.[1];
  assert.ok(line, `the README has ${what}`);
  const words = line.split(' ');
  assert.deepEqual(words.slice(0, 2), ['docker', 'compose'], line);
  return (await dc(words.slice(2), 60_000)).stdout.trim();
}

async function timed<T>(name: string, step: () => Promise<T>): Promise<T> {
  const started = Date.now();
  try {
    return await step();
  } finally {
    timings[name] = Date.now() - started;
    process.stdout.write(`compose: ${name} took ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  }
}

before(async () => {
  if (skipReason) return;
  compose = await composeCommand();
  for (const key of Object.keys(ports) as Array<keyof typeof ports>) ports[key] = await freePort();
  env = {
    COMPOSE_PROJECT_NAME: project,
    JETCEL_PUBLISH_NATS_PORT: String(ports.nats),
    JETCEL_PUBLISH_DASHBOARD_PORT: String(ports.dashboard),
    JETCEL_PUBLISH_PROMETHEUS_PORT: String(ports.prometheus),
    JETCEL_PUBLISH_CLOUD_PORT: String(ports.cloud),
  };
  // Images compose pulls are pulled; where Docker Hub cannot be reached (the first pull fails),
  // stand-ins are built from Debian's packages instead (built once, reused).
  let hubReachable = true;
  for (const image of PULLED) {
    if (!hubReachable || (await imageExists(image))) continue;
    const started = Date.now();
    hubReachable = await run(DOCKER, ['pull', '-q', image], { timeoutMs: 60_000 }).then(
      () => true,
      () => false,
    );
    if (!hubReachable) process.stdout.write(`compose: docker pull ${image} failed in ${Date.now() - started} ms\n`);
  }
  if (!hubReachable) {
    const built = await timed('offline images (deploy/offline-images/build.sh)', () =>
      run('bash', [resolve(root, 'deploy/offline-images/build.sh')], { timeoutMs: 1_800_000 }),
    );
    process.stdout.write(built.stdout);
  }
  await dc(['down', '-v', '--remove-orphans'], 120_000);
  await timed('jetcel image build', () =>
    run(DOCKER, ['build', '-q', '-t', 'jetcel:local', '-f', 'deploy/Dockerfile', '.'], {
      cwd: root,
      env: { DOCKER_BUILDKIT: '0' },
      timeoutMs: 1_800_000,
    }),
  );
  // Earlier builds of the image, now untagged, would fill the disk run after run.
  await run(DOCKER, ['image', 'prune', '-f', '--filter', 'label=org.jetcel.image=jetcel']);
  upStartedAt = Date.now();
  await timed('docker compose up -d', () => dc(['up', '-d', '--no-build'], 600_000));
});

after(async () => {
  if (skipReason) return;
  await bus?.close().catch(() => undefined);
  const { stdout } = await dc(['ps']).catch(() => ({ stdout: '' }));
  process.stdout.write(`${stdout}\n`);
  await dc(['down', '-v', '--remove-orphans'], 180_000);
  process.stdout.write(`compose timings (ms): ${JSON.stringify(timings)}\n`);
});

/** Each container of the project with its state, health and restart count. */
async function containers(): Promise<Array<{ service: string; state: string; health: string; restarts: number }>> {
  const { stdout: ids } = await run(DOCKER, ['ps', '-aq', '--filter', `label=com.docker.compose.project=${project}`]);
  if (!ids.trim()) return [];
  const format =
    '{{index .Config.Labels "com.docker.compose.service"}} {{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{else}}-{{end}} {{.RestartCount}}';
  const { stdout } = await run(DOCKER, ['inspect', '--format', format, ...ids.trim().split(/\s+/)]);
  return stdout
    .trim()
    .split('\n')
    .map((line) => {
      const [service = '', state = '', health = '', restarts = '0'] = line.split(' ');
      return { service, state, health, restarts: Number(restarts) };
    });
}

const send = (subject: string, payload: string, token: string): Promise<Reply> =>
  requestJson(bus as Bus, subject, payload, {
    timeoutMs: 10_000,
    headers: { Authorization: `Bearer ${token}` },
  }) as Promise<Reply>;

function data<T>(reply: Reply): T {
  assert.ok(reply.ok, JSON.stringify(reply));
  return reply.data as T;
}

async function untilOk(id: string, token: string, timeoutMs = 120_000): Promise<void> {
  await waitFor(`instance ${id} OK`, timeoutMs, async () => {
    const state = data<{ state: string }>(await send('query.instance.get', JSON.stringify({ id }), token)).state;
    assert.notEqual(state, 'ERRED');
    return state === 'OK' ? true : undefined;
  });
}

let token = '';

test(
  'the stack converges from cold: every job exits 0, every service runs and is healthy, none restarted',
  { skip: skipReason ?? false },
  async () => {
    const final = await timed('healthy', () =>
      waitFor('every service up and healthy', 300_000, async () => {
        const list = await containers();
        const jobs = list.filter((c) => ['secrets', 'migrate', 'topology'].includes(c.service));
        const services = list.filter((c) => !jobs.includes(c));
        for (const job of jobs) assert.notEqual(job.state, 'restarting', job.service);
        const ready =
          jobs.length === 3 &&
          jobs.every((c) => c.state === 'exited') &&
          services.length === 10 &&
          services.every((c) => c.state === 'running' && (c.health === '-' || c.health === 'healthy'));
        return ready ? list : undefined;
      }),
    );
    for (const c of final) assert.equal(c.restarts, 0, `${c.service} never restarted`);
    const { stdout } = await run(DOCKER, [
      'ps',
      '-a',
      '--filter',
      `label=com.docker.compose.project=${project}`,
      '--filter',
      'label=com.docker.compose.oneoff=False',
      '--format',
      '{{.Names}} {{.Status}}',
    ]);
    for (const line of stdout
      .trim()
      .split('\n')
      .filter((l) => /secrets|migrate|topology/.test(l)))
      assert.match(line, /Exited \(0\)/, line);
  },
);

test(
  "the README's quick start as written: token in the executor, create, get until OK, execution",
  { skip: skipReason ?? false },
  async () => {
    const operatorPass = await readmeCommand(/--password\s+"\$\(([^)]*)\)"/, "the operator's password line");
    assert.match(operatorPass, /^[A-Za-z][\w-]{31}$/, 'a generated password');
    bus = await connectBus({
      servers: [`nats://127.0.0.1:${ports.nats}`],
      name: 'compose-test',
      user: 'operator',
      pass: operatorPass,
    });
    token = await readmeCommand(/^TOKEN=\$\((docker compose exec -T executor [^)]*)\)$/m, 'the token line');
    assert.match(token, /^[\w-]+\.[\w-]+\.[\w-]+$/);
    const requests = [...readme.matchAll(/^nats req -H "Authorization:Bearer \$TOKEN" (\S+) '(.*)'$/gm)].map((m) => ({
      subject: m[1] ?? '',
      payload: m[2] ?? '',
    }));
    const [create, get, execution] = requests;
    assert.ok(create && get && execution);
    // The executor may still be joining its queue group right after `healthy`: retry until it answers.
    const created = await waitFor('the executor answers cmd.instance.create', 60_000, async () =>
      data<{ id: string; executionId: string }>(await send(create.subject, create.payload, token)),
    );
    const getPayload = get.payload.replace('<id from the reply above>', created.id);
    await waitFor('query.instance.get shows OK', 120_000, async () => {
      const state = data<{ state: string }>(await send(get.subject, getPayload, token)).state;
      assert.notEqual(state, 'ERRED');
      return state === 'OK' ? state : undefined;
    });
    timings['up to first OK instance'] = Date.now() - upStartedAt;
    process.stdout.write(
      `compose: time from \`up\` to the first OK instance: ${((Date.now() - upStartedAt) / 1000).toFixed(1)} s\n`,
    );
    const steps = data<{ status: string; steps: unknown[] }>(
      await send(
        execution.subject,
        execution.payload.replace('<executionId from the first reply>', created.executionId),
        token,
      ),
    );
    assert.equal(steps.status, 'succeeded');
    assert.ok(steps.steps.length >= 2);
    const anonymous = (await requestJson(bus, create.subject, create.payload, { timeoutMs: 10_000 })) as Reply;
    assert.equal(anonymous.ok ? 'ok' : anonymous.error.code, 'UNAUTHENTICATED', 'no token, no access');
  },
);

test(
  'the dashboard logs in with the first-start credentials the secrets job printed',
  { skip: skipReason ?? false },
  async () => {
    const { stdout } = await dc(['logs', '--no-color', 'secrets']);
    const password = /user: admin\s+password: (\S+)/.exec(stdout)?.[1];
    assert.ok(password, `the secrets job printed the login:\n${stdout}`);
    const base = `http://127.0.0.1:${ports.dashboard}`;
    const login = (pass: string) =>
      fetch(`${base}/login`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: base },
        body: new URLSearchParams({ username: 'admin', password: pass }).toString(),
      });
    assert.equal((await login('dev-only-admin')).status, 401, 'the old development password is gone');
    const response = await login(password);
    assert.equal(response.status, 303, await response.text());
    const cookie = (response.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    const api = await fetch(`${base}/api/resources`, { headers: { cookie } });
    assert.equal(api.status, 200, await api.text());
    // A later start reuses every secret and prints no password again.
    const again = await dc(['run', '--rm', 'secrets']);
    assert.match(again.stdout, /reusing the secrets/);
    assert.doesNotMatch(again.stdout, /password/);
  },
);

test('Prometheus scrapes /metrics of every long-running jetcel service', { skip: skipReason ?? false }, async () => {
  const query = async (expr: string) => {
    const response = await fetch(`http://127.0.0.1:${ports.prometheus}/api/v1/query?query=${encodeURIComponent(expr)}`);
    const body = (await response.json()) as {
      data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> };
    };
    return body.data.result;
  };
  const up = await waitFor('every target scraped and up', 90_000, async () => {
    const result = await query('up{job="jetcel"}');
    return result.length === 5 && result.every((r) => r.value[1] === '1') ? result : undefined;
  });
  assert.deepEqual(up.map((r) => r.metric.instance?.split(':')[0]).sort(), [
    'beat',
    'executor',
    'worker-background',
    'worker-heavy',
    'worker-regular',
  ]);
  const heap = await query('nodejs_heap_size_used_bytes');
  assert.ok(heap.length >= 5, 'jetcel metrics read through Prometheus');
});

test(
  'a worker restarted mid-run loses nothing: every instance still reaches OK',
  { skip: skipReason ?? false },
  async () => {
    assert.ok(bus && token, 'the quick-start test ran');
    const created: Array<{ id: string; executionId: string }> = [];
    for (let i = 0; i < 6; i++) {
      const reply = await send(
        'cmd.instance.create',
        JSON.stringify({ name: `restart-${i}`, cloudSettingsId: 'default' }),
        token,
      );
      created.push(data<{ id: string; executionId: string }>(reply));
    }
    await timed('worker-regular restart', () => dc(['restart', 'worker-regular'], 120_000));
    for (const { id, executionId } of created) {
      await untilOk(id, token, 180_000);
      const execution = await send('query.execution.get', JSON.stringify({ id: executionId }), token);
      assert.equal(data<{ status: string }>(execution).status, 'succeeded', executionId);
    }
    const restarted = (await containers()).find((c) => c.service === 'worker-regular');
    assert.equal(restarted?.state, 'running');
  },
);
