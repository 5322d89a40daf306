import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import {
  Leases,
  consumerInfo,
  defineTopology,
  publish,
  publishCore,
  requestJson,
  startConsumer,
  streamInfo,
  subscribeCore,
  verifyTopology,
} from '@jetcel/bus';
import { startCloud } from '@jetcel/cloud';
import {
  commandSubject,
  EVENTS_STREAM,
  eventSubject,
  EXECUTOR_QUEUE_GROUP,
  LEASES_BUCKET,
  leaseKey,
  QUERY_WILDCARD,
  QUEUES,
  querySubject,
  taskStream,
  taskSubject,
} from '@jetcel/contracts';
import { FRAMEWORK_MIGRATIONS, migrateUp } from '@jetcel/db';
import { referenceMigrations } from '@jetcel/reference';
import { serviceConfigFromEnv } from '@jetcel/runtime';
import { hashPassword } from '@jetcel/dashboard-service';
import { createTestDatabase, eventually, freePort, type ServiceProcess, type TestDatabase } from '@jetcel/testing';
import {
  ROLES,
  connectAs,
  executorEnv,
  isPermissionViolation,
  jsApi,
  passwordVariable,
  rejection,
  roleEnv,
  spawnAs,
  startSecuredNats,
  violationReported,
  type RoleBus,
  type SecuredNats,
} from './permissions-harness.ts';

// "Nobody in where they don't belong": nats-server runs deploy/nats/permissions.conf as is, every
// service logs in as its own role, and each role is shown what it may not do. Nothing is mocked.

type Reply = { ok: true; data: Record<string, unknown> } | { ok: false; error: { code: string; message: string } };

let nats: SecuredNats;
let database: TestDatabase;
let cloud: Awaited<ReturnType<typeof startCloud>>;
let pool: pg.Pool;
let env: Record<string, string>;
/** The database password given to the services, or null when the server refuses a password. */
let dbPassword: string | null = null;
const services = new Map<string, ServiceProcess>();
const jobOutput: string[] = [];
const probes: RoleBus[] = [];
/** Shared by the executor (verifies) and the dashboard (signs its users' tokens). */
const AUTH_SECRET = `s${randomBytes(24).toString('hex')}`;

const connect = async (role: (typeof ROLES)[number]): Promise<RoleBus> => {
  const probe = await connectAs(nats, role);
  probes.push(probe);
  return probe;
};

/** The same URL with a password in it: trust authentication (127.0.0.1) accepts any password. */
async function passwordUrl(url: string): Promise<string | null> {
  const password = `s3cret-db-${randomBytes(6).toString('hex')}`;
  const withPassword = new URL(url);
  withPassword.password = password;
  const client = new pg.Client({ connectionString: withPassword.toString() });
  try {
    await client.connect();
    dbPassword = password;
    return withPassword.toString();
  } catch {
    return null; // password authentication configured: the services get the plain URL
  } finally {
    await client.end().catch(() => {});
  }
}

before(async () => {
  nats = await startSecuredNats();
  // The server has read them: no service process inherits another role's password from us.
  for (const role of ROLES) delete process.env[passwordVariable(role)];
  database = await createTestDatabase({ prefix: 'perm' });
  await migrateUp(database.url, [FRAMEWORK_MIGRATIONS, referenceMigrations]);
  cloud = await startCloud({ buildDelayMs: 300, deleteDelayMs: 100, actionDelayMs: 100, snapshotDelayMs: 100 });
  pool = new pg.Pool({ connectionString: database.url, max: 2 });
  env = {
    DATABASE_URL: (await passwordUrl(database.url)) ?? database.url,
    CLOUD_URL: cloud.url,
    INSTANCE_POLL_INTERVAL_MS: '150',
    JETCEL_SWEEP_MS: '300',
    JETCEL_CLAIM_GRACE_MS: '1000',
    BEAT_TEST_SCHEDULE_EVERY_MS: '1000',
    JETCEL_AUTH_SECRET: AUTH_SECRET,
    // The clients below send no token: this suite is about NATS permissions, not identities.
    JETCEL_AUTH_ANONYMOUS: 'allow',
    LOG_LEVEL: 'info',
  };
  // The real topology job, as the topology user: the only role that may create streams.
  const job = await spawnAs('topology', { ...env, ...roleEnv(nats, 'topology') });
  const code = await job.exited;
  jobOutput.push(...job.output());
  assert.equal(code, 0, `topology job:\n${job.output().join('\n')}`);
});

after(async () => {
  await Promise.allSettled([...services.values()].map((service) => service.stop()));
  await Promise.allSettled(probes.map((probe) => probe.bus.close()));
  await pool?.end().catch(() => {});
  await cloud?.close().catch(() => {});
  await database?.drop().catch(() => {});
  await nats?.server[Symbol.asyncDispose]().catch(() => {});
});

const sql = async <T extends pg.QueryResultRow>(text: string, params: unknown[] = []): Promise<T[]> =>
  (await pool.query<T>(text, params)).rows;

const violationLines = (): string[] => nats.server.logs().filter((line) => /violation/i.test(line));

test('every service runs with its own credentials: an instance create reaches OK under a throttle lease', async () => {
  const spawn = async (name: string, ...args: Parameters<typeof spawnAs>): Promise<void> => {
    const service = await spawnAs(...args);
    services.set(name, service); // registered at once, so after() stops it whatever fails next
  };
  await Promise.all([
    spawn('executor', 'executor', { ...env, ...executorEnv(nats) }, { readyLine: /"executor ready"/ }),
    ...(['regular', 'heavy', 'background'] as const).map((queue) =>
      spawn(
        `worker-${queue}`,
        'worker',
        { ...env, ...roleEnv(nats, `worker-${queue}`) },
        { args: ['--queue', queue], readyLine: /"worker ready"/ },
      ),
    ),
    spawn('beat', 'beat', { ...env, ...roleEnv(nats, 'beat') }, { readyLine: /"beat ready"/ }),
  ]);

  const client = await connect('client');
  const askAs =
    (role: RoleBus) =>
    async (subject: string, body: unknown): Promise<Record<string, unknown>> => {
      const reply = (await requestJson(role.bus, subject, body, { timeoutMs: 10_000 })) as Reply;
      if (!reply.ok) throw new Error(`${subject}: ${JSON.stringify(reply.error)}`);
      return reply.data;
    };
  const ask = askAs(client);
  const created = await ask(commandSubject('instance', 'create'), { name: 'vm-perm', cloudSettingsId: 'default' });
  const id = String(created.id);
  await eventually(
    async () => (await sql<{ state: string }>('select state from ref_instance where id = $1', [id]))[0]?.state === 'OK',
    { timeoutMs: 20_000, message: `instance ${id} never reached OK` },
  );
  const [execution] = await sql<{ status: string; lease: { key: string; token: string } | null }>(
    'select status, lease from jetcel_execution where id = $1',
    [created.executionId],
  );
  assert.equal(execution?.status, 'succeeded');
  assert.ok(execution?.lease?.key.startsWith('instance_provision.'), 'the throttled span took a lease in KV');

  // worker-heavy: a heavy executor (a snapshot) on tasks.heavy.
  const backup = await ask(commandSubject('instance', 'backup'), { id, name: 'nightly' });
  await eventually(
    async () => {
      const [row] = await sql<{ status: string }>('select status from jetcel_execution where id = $1', [
        backup.executionId,
      ]);
      return row?.status === 'succeeded';
    },
    { timeoutMs: 20_000, message: 'the heavy backup never succeeded' },
  );
  // beat publishes a tick on tasks.background; worker-background runs it.
  await services.get('worker-background')?.waitForLine(/"background run finished"/, 15_000);
  assert.equal((await ask(querySubject('instance', 'get'), { id })).state, 'OK');

  // The operator reads the picture: stream and consumer info, and the (released) leases.
  const operator = await connect('operator');
  assert.equal((await streamInfo(operator.bus, taskStream('regular'))).messages, 0);
  assert.equal((await consumerInfo(operator.bus, taskStream('heavy'), 'worker-heavy')).numAckPending, 0);
  await eventually(async () => (await (await Leases.open(operator.bus)).entries()).length === 0, {
    timeoutMs: 5_000,
    message: 'the lease was never released',
  });
  // The operator queries answer through executor-relay's read-only rights; `jetcel tail` subscribes to events.
  const seen: string[] = [];
  const unsubscribe = subscribeCore(operator.bus, 'events.>', (message) => seen.push(message.subject));
  await operator.bus.nc.flush();
  const operatorAsk = askAs(operator);
  const queues = (await operatorAsk(querySubject('queue', 'stats'), {})).streams as Array<{ stream: string }>;
  assert.deepEqual(
    queues.map((entry) => entry.stream),
    [
      'TASKS_REGULAR',
      'TASKS_REGULAR_LONG',
      'TASKS_HEAVY',
      'TASKS_HEAVY_LONG',
      'TASKS_BACKGROUND',
      'TASKS_BACKGROUND_LONG',
      'EVENTS',
    ],
  );
  assert.deepEqual((await operatorAsk(querySubject('lease', 'list'), {})).scopes, []);
  assert.ok(((await operatorAsk(querySubject('schedule', 'list'), {})).items as unknown[]).length > 0);
  assert.ok(((await operatorAsk(querySubject('resource', 'list'), {})).items as unknown[]).length > 0);
  await ask(commandSubject('instance', 'rename'), { id, name: 'vm-perm-2' });
  await eventually(async () => seen.length > 0, { timeoutMs: 10_000, message: 'the operator saw no event' });
  unsubscribe();

  // Nothing a service did was refused: the server logs every violation, and the services too.
  assert.deepEqual(violationLines(), [], 'no permission violation while the services worked');
  for (const [name, service] of services) {
    const bad = service.output().filter((line) => /violation|"level":"error"|lease .*failed/i.test(line));
    assert.deepEqual(bad, [], `${name} logged no error`);
  }
});

test('a client cannot publish a task, read leases, or listen to other inboxes', async () => {
  const client = await connect('client');
  const published = await rejection(
    publish(client.bus, taskSubject('regular'), '{}', { msgId: 'rogue-1' }),
    'client JetStream publish on tasks.regular',
  );
  assert.ok(isPermissionViolation(published), String(published));
  publishCore(client.bus, taskSubject('heavy'), '{}');
  assert.ok(await violationReported(client, taskSubject('heavy')), 'core publish on tasks.heavy is refused');

  const leases = await Leases.open(client.bus); // binding asks the server nothing
  const listed = await rejection(leases.entries(), 'client listing leases');
  assert.ok(isPermissionViolation(listed), String(listed));
  const got = await rejection(
    leases.release({ key: 'instance_provision.ZGVmYXVsdA.0', revision: 1 }, { executionId: 'x', token: 'y' }),
    'client reading a lease',
  );
  assert.ok(isPermissionViolation(got), String(got));
  for (const subject of [jsApi.info, jsApi.streamInfo(`KV_${LEASES_BUCKET}`), jsApi.directGet(`KV_${LEASES_BUCKET}`)]) {
    const refused = await rejection(client.bus.nc.request(subject, '', { timeout: 2_000 }), `client ${subject}`);
    assert.ok(isPermissionViolation(refused), `${subject}: ${String(refused)}`);
  }

  for (const subject of ['_INBOX.>', `$KV.${LEASES_BUCKET}.>`, 'tasks.>']) {
    const errors: unknown[] = [];
    subscribeCore(client.bus, subject, () => {}, { onError: (err) => errors.push(err) });
    await eventually(async () => errors.length > 0, { timeoutMs: 2_000, message: `subscribe ${subject} allowed` });
    assert.ok(isPermissionViolation(errors[0]), String(errors[0]));
  }
});

test('a worker cannot send commands, manage streams, or consume another queue', async () => {
  const worker = await connect('worker-regular');
  const command = await rejection(
    requestJson(worker.bus, commandSubject('instance', 'create'), { name: 'x', cloudSettingsId: 'default' }),
    'worker command',
  );
  assert.ok(isPermissionViolation(command), String(command));
  const jsm = await worker.bus.jsm();
  const created = await rejection(jsm.streams.add({ name: 'ROGUE', subjects: ['rogue.>'] }), 'worker stream create');
  assert.ok(isPermissionViolation(created), String(created));
  const purged = await rejection(jsm.streams.purge(taskStream('regular')), 'worker stream purge');
  assert.ok(isPermissionViolation(purged), String(purged));
  // it may read its own consumer, not change it (on 2.9 an update is a CONSUMER.CREATE)
  const updated = await rejection(
    jsm.consumers.update(taskStream('regular'), 'worker-regular', { max_deliver: 1 }),
    'worker consumer update',
  );
  assert.ok(isPermissionViolation(updated), String(updated));
  const foreign = await rejection(
    startConsumer(worker.bus, { queue: 'heavy', concurrency: 1, handler: async () => ({ kind: 'ack' }) }),
    'worker-regular consuming tasks.heavy',
  );
  assert.ok(isPermissionViolation(foreign), String(foreign));
});

test('the executor cannot create, update or delete streams or consumers', async () => {
  // The serving user has no JetStream API at all: even its first call (the account info) is refused.
  const serving = await rejection((await connect('executor')).bus.jsm(), 'executor JetStream API');
  assert.ok(isPermissionViolation(serving), String(serving));
  const jsm = await (await connect('executor-relay')).bus.jsm();
  const stream = taskStream('regular');
  const attempts: Array<[string, () => Promise<unknown>]> = [
    ['stream create', () => jsm.streams.add({ name: 'ROGUE', subjects: ['rogue.>'] })],
    ['stream update', () => jsm.streams.update(stream, { max_bytes: 1024 })],
    ['stream purge', () => jsm.streams.purge(stream)],
    ['stream delete', () => jsm.streams.delete(stream)],
    ['consumer create', () => jsm.consumers.add(stream, { durable_name: 'rogue', ack_policy: 'explicit' })],
    ['consumer update', () => jsm.consumers.update(stream, 'worker-regular', { max_deliver: 1 })],
    ['consumer delete', () => jsm.consumers.delete(stream, 'worker-regular')],
  ];
  for (const [what, attempt] of attempts) {
    const refused = await rejection(attempt(), `executor-relay ${what}`);
    assert.ok(isPermissionViolation(refused), `${what}: ${String(refused)}`);
  }
  // and it may serve commands only in the "executor" queue group, never listen to them all
  const executor = await connect('executor');
  const errors: unknown[] = [];
  subscribeCore(executor.bus, 'cmd.>', () => {}, { onError: (err) => errors.push(err) });
  await eventually(async () => errors.length > 0, { timeoutMs: 2_000, message: 'plain subscribe on cmd.> allowed' });
  assert.ok(isPermissionViolation(errors[0]), String(errors[0]));

  // Given only its serving user, the executor refuses to start rather than relay as that user.
  const half = await spawnAs('executor', { ...env, ...roleEnv(nats, 'executor') });
  assert.notEqual(await half.exited, 0, 'the executor refuses NATS_USER without NATS_RELAY_USER');
  assert.ok(
    half.output().some((line) => line.includes('NATS_RELAY_USER is not set')),
    half.output().join('\n'),
  );

  // Nothing changed: the live topology is still exactly the code's.
  const topology = await connect('topology');
  await verifyTopology(topology.bus, defineTopology(serviceConfigFromEnv(env).topology));
});

test('operator, beat and topology keep to their lanes', async () => {
  const operator = await connect('operator');
  const jsm = await operator.bus.jsm();
  const attempts: Array<[string, () => Promise<unknown>]> = [
    ['publish a task', () => publish(operator.bus, taskSubject('regular'), '{}', { msgId: 'rogue-2' })],
    ['delete a consumer', () => jsm.consumers.delete(taskStream('regular'), 'worker-regular')],
    ['create a stream', () => jsm.streams.add({ name: 'ROGUE', subjects: ['rogue.>'] })],
  ];
  for (const [what, attempt] of attempts) {
    const refused = await rejection(attempt(), `operator: ${what}`);
    assert.ok(isPermissionViolation(refused), `${what}: ${String(refused)}`);
  }
  // A pull request is a plain publish: the refusal reaches the connection, not the fetch.
  const beat = await connect('beat');
  const pulling = await startConsumer(beat.bus, {
    queue: 'background',
    concurrency: 1,
    handler: async () => ({ kind: 'ack' }),
  });
  try {
    const next = `$JS.API.CONSUMER.MSG.NEXT.${taskStream('background')}.worker-background`;
    assert.ok(await violationReported(beat, next, 5_000), 'beat may not pull from tasks.background');
  } finally {
    await pulling.stop({ deadlineMs: 0 });
  }
  assert.equal(pulling.stats().delivered, 0);
  const topology = await connect('topology');
  const task = await rejection(
    publish(topology.bus, taskSubject('regular'), '{}', { msgId: 'rogue-3' }),
    'topology publishing a task',
  );
  assert.ok(isPermissionViolation(task), String(task));
});

test('the dashboard asks as its users and watches events, and may do nothing else', async () => {
  const port = await freePort();
  const dashboard = await spawnAs(
    'dashboard',
    {
      ...roleEnv(nats, 'dashboard'),
      JETCEL_DASHBOARD_PORT: String(port),
      JETCEL_DASHBOARD_USERS: `ops:admin:${await hashPassword('ops-password')}`,
      JETCEL_AUTH_SECRET: AUTH_SECRET,
      LOG_LEVEL: 'info',
    },
    { readyLine: /"dashboard ready"/ },
  );
  services.set('dashboard', dashboard);
  const base = `http://127.0.0.1:${port}`;
  const login = await fetch(`${base}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'username=ops&password=ops-password',
  });
  assert.equal(login.status, 303);
  const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  const resources = (await (
    await fetch(`${base}/api/resources?type=instance`, { headers: { cookie } })
  ).json()) as Reply;
  assert.ok(resources.ok, JSON.stringify(resources));
  const items = resources.data.items as Array<{ fields: Record<string, unknown> }>;
  assert.ok(
    items.some((item) => String(item.fields.name).startsWith('vm-perm')),
    'the instance created above is listed',
  );
  const events = await fetch(`${base}/events`, { headers: { cookie } });
  assert.equal(events.status, 200, 'the live stream (events.>) is allowed');
  await events.body?.cancel();
  assert.deepEqual(
    dashboard.output().filter((line) => /violation|"level":"error"/i.test(line)),
    [],
    'the dashboard logged no violation',
  );

  const probe = await connect('dashboard');
  const task = await rejection(
    publish(probe.bus, taskSubject('regular'), '{}', { msgId: 'rogue-4' }),
    'dashboard publishing a task',
  );
  assert.ok(isPermissionViolation(task), String(task));
  for (const subject of [jsApi.info, jsApi.streamInfo(`KV_${LEASES_BUCKET}`)]) {
    const refused = await rejection(probe.bus.nc.request(subject, '', { timeout: 2_000 }), `dashboard ${subject}`);
    assert.ok(isPermissionViolation(refused), `${subject}: ${String(refused)}`);
  }
  for (const subject of ['_INBOX.>', 'tasks.>', 'cmd.>']) {
    const errors: unknown[] = [];
    subscribeCore(probe.bus, subject, () => {}, { onError: (err) => errors.push(err) });
    await eventually(async () => errors.length > 0, { timeoutMs: 2_000, message: `subscribe ${subject} allowed` });
    assert.ok(isPermissionViolation(errors[0]), String(errors[0]));
  }
});

/** What a reply could damage: every stream's counts, and one lease key's value and revision. */
async function damageable(lease: { key: string }): Promise<Record<string, unknown>> {
  const topology = await connect('topology');
  const jsm = await topology.bus.jsm();
  const state: Record<string, unknown> = {};
  for (const stream of [...QUEUES.map(taskStream), EVENTS_STREAM, `KV_${LEASES_BUCKET}`]) {
    const info = (await jsm.streams.info(stream)).state;
    state[stream] = { messages: info.messages, firstSeq: info.first_seq, lastSeq: info.last_seq };
  }
  const entry = await jsm.streams.getMessage(`KV_${LEASES_BUCKET}`, {
    last_by_subj: `$KV.${LEASES_BUCKET}.${lease.key}`,
  });
  state.lease = { seq: entry?.seq, value: entry?.string() };
  await topology.bus.close();
  return state;
}

test("no caller's reply subject makes the executor write to a stream, a lease or the JetStream API", async () => {
  // Workers and beat stop: tasks stay in their streams, and no reconciler touches the probe lease.
  for (const name of ['worker-regular', 'worker-heavy', 'worker-background', 'beat'])
    assert.equal(await services.get(name)?.stop(), 0, `${name} stops`);
  const worker = await connect('worker-regular');
  for (let i = 0; i < 3; i++) await publish(worker.bus, taskSubject('regular'), '{}', { msgId: `attack-probe-${i}` });
  const lease = await (
    await Leases.open(worker.bus)
  ).acquire('instance_provision', 'default', 1, { executionId: 'attack-probe', token: 'probe-token' });
  assert.ok(lease, 'the probe holds a lease');
  const [instance] = await sql<{ id: string }>('select id from ref_instance limit 1');
  assert.ok(instance);
  const before = await damageable(lease);
  assert.equal((before[taskStream('regular')] as { messages: number }).messages, 3);

  const replies = [
    taskSubject('regular'),
    eventSubject('instance', instance.id, 'state_changed'),
    `$KV.${LEASES_BUCKET}.${lease.key}`,
    `$JS.API.STREAM.PURGE.${taskStream('regular')}`,
  ];
  const executor = services.get('executor');
  assert.ok(executor);
  const refusedBefore = executor.output().filter((line) => line.includes('"request refused')).length;
  const executorViolations = (): number => violationLines().filter((line) => /"executor(-relay)?"/.test(line)).length;
  const violationsBefore = executorViolations();
  for (const role of ['client', 'dashboard', 'operator'] as const) {
    const attacker = await connect(role);
    for (const reply of replies) {
      attacker.bus.nc.publish(querySubject('nope', 'nope'), '{}', { reply });
      attacker.bus.nc.publish(commandSubject('instance', 'rename'), '{}', { reply });
    }
    await attacker.bus.nc.flush();
    // Its own inbox is still answered: the executor has read every request sent before.
    const answer = (await requestJson(attacker.bus, querySubject('nope', 'nope'), {}, { timeoutMs: 10_000 })) as Reply;
    assert.equal(answer.ok, false);
  }
  await new Promise((done) => setTimeout(done, 500)); // a reply published anyway would have landed by now
  assert.deepEqual(await damageable(lease), before, 'streams, EVENTS and the lease key are unchanged');
  await eventually(
    async () =>
      executor.output().filter((line) => line.includes('"request refused')).length - refusedBefore ===
      3 * 2 * replies.length,
    { timeoutMs: 5_000, message: 'the executor did not log one refusal per attack' },
  );
  assert.equal(executorViolations(), violationsBefore, 'the executor did not even try');
});

test("a client application with its own inbox prefix cannot read another's replies, nor can the others read its", async () => {
  const billing = await connect('app-billing');
  const answer = (await requestJson(billing.bus, querySubject('nope', 'nope'), {}, { timeoutMs: 10_000 })) as Reply;
  assert.equal(answer.ok, false, 'app-billing gets its replies in _INBOX.app-billing.>');
  const dashboard = await connect('dashboard');
  const client = await connect('client');
  const overheard: string[] = [];
  for (const [role, inbox] of [
    [billing, '_INBOX.client.>'],
    [dashboard, '_INBOX.client.>'],
    [client, '_INBOX.app-billing.>'],
    [dashboard, '_INBOX.app-billing.>'],
  ] as const) {
    const errors: unknown[] = [];
    subscribeCore(role.bus, inbox, (message) => overheard.push(message.subject), {
      onError: (err) => errors.push(err),
    });
    await eventually(async () => errors.length > 0, { timeoutMs: 2_000, message: `subscribe ${inbox} allowed` });
    assert.ok(isPermissionViolation(errors[0]), String(errors[0]));
  }
  await requestJson(client.bus, querySubject('nope', 'nope'), {}, { timeoutMs: 10_000 });
  await requestJson(billing.bus, querySubject('nope', 'nope'), {}, { timeoutMs: 10_000 });
  assert.deepEqual(overheard, [], 'no reply reached another user');
});

test('the serving user cannot publish outside inboxes, even answering a request itself', async () => {
  const lease = { key: leaseKey('instance_provision', 'default', 0) };
  const before = await damageable(lease);
  // In the executor's place, a request handler that answers whatever reply subject it is given, as
  // if the code check were gone.
  assert.equal(await services.get('executor')?.stop(), 0, 'the executor stops');
  const serving = await connect('executor');
  const received: string[] = [];
  const sub = serving.bus.nc.subscribe(QUERY_WILDCARD, {
    queue: EXECUTOR_QUEUE_GROUP,
    callback: (err, msg) => {
      if (err) return;
      received.push(msg.reply ?? '');
      msg.respond('{"forged":true}');
    },
  });
  await serving.bus.nc.flush();
  const client = await connect('client');
  const replies = [
    taskSubject('regular'),
    eventSubject('instance', 'forged', 'state_changed'),
    `$KV.${LEASES_BUCKET}.${lease.key}`,
    `$JS.API.STREAM.PURGE.${taskStream('regular')}`,
  ];
  for (const reply of replies) client.bus.nc.publish(querySubject('nope', 'nope'), '{}', { reply });
  await client.bus.nc.flush();
  await eventually(async () => received.length === replies.length, { timeoutMs: 5_000, message: 'bypass got nothing' });
  for (const reply of replies) assert.ok(await violationReported(serving, reply), `the server refused ${reply}`);
  // Nor may it publish there on its own.
  for (const subject of [taskSubject('heavy'), 'events.instance.x.deleted', `$KV.${LEASES_BUCKET}.x`, '$JS.API.INFO']) {
    serving.bus.nc.publish(subject, '{}');
    assert.ok(await violationReported(serving, subject), `the server refused ${subject}`);
  }
  sub.unsubscribe();
  assert.deepEqual(await damageable(lease), before, 'streams, EVENTS and the lease key are unchanged');
});

test('no password (NATS or database) appears in any output', async (t) => {
  const wrong = `wrong-${randomBytes(6).toString('hex')}`;
  const intruder = await spawnAs(
    'worker',
    {
      ...env,
      ...roleEnv(nats, 'worker-regular'),
      NATS_PASS: wrong,
    },
    { args: ['--queue', 'regular'] },
  );
  const refusedCode = await intruder.exited;
  assert.notEqual(refusedCode, 0, 'a wrong password does not get in');
  assert.ok(
    intruder.output().some((line) => /authorization/i.test(line)),
    intruder.output().join('\n'),
  );

  const outputs: Array<[string, string[]]> = [
    ['topology job', jobOutput],
    ['worker with a wrong password', intruder.output()],
  ];
  const stopped = await Promise.all(
    [...services].map(async ([name, service]) => [name, await service.stop()] as const),
  );
  for (const [name, code] of stopped) assert.equal(code, 0, `${name} stops cleanly`);
  for (const [name, service] of services) outputs.push([name, service.output()]);
  services.clear();
  outputs.push(['nats-server', nats.server.logs()]);
  const secrets = [...Object.values(nats.passwords), wrong, ...(dbPassword === null ? [] : [dbPassword])];
  for (const [name, lines] of outputs) {
    const text = lines.join('\n');
    assert.ok(text.length > 0 || name === 'nats-server', `${name} produced output`);
    for (const secret of secrets) assert.ok(!text.includes(secret), `${name} logged a secret`);
  }
  if (dbPassword === null) t.diagnostic('PostgreSQL refused a password over TCP: no database password was checked');
});
