import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connectBus, publishCore, serveRequests, type Bus, type RequestServer } from '@jetcel/bus';
import { bearerToken, verifyIdentityToken } from '@jetcel/identity';
import { spawnService, startNats, type NatsServerHandle } from '@jetcel/testing';
import {
  BusJetcelApi,
  SESSION_COOKIE,
  hashPassword,
  jsonLogger,
  readDashboardConfig,
  startDashboard,
  type RunningDashboard,
} from '../src/index.ts';

// The auth gate of every route, login, CSRF and sessions, against a real nats-server. A stand-in
// responder on cmd.>/query.> (real NATS, real request-reply) records what the dashboard sends.

const SECRET = 'a-dashboard-test-secret-0123456789-abcdef';
const ID = randomUUID();
let nats: NatsServerHandle;
let bus: Bus;
let responder: RequestServer;
let api: BusJetcelApi;
let dashboard: RunningDashboard;
const received: Array<{ subject: string; headers: Record<string, string>; body: unknown }> = [];

before(async () => {
  nats = await startNats();
  bus = await connectBus({ servers: nats.url, name: 'gate-test' });
  responder = serveRequests(bus, {
    subjects: ['cmd.>', 'query.>'],
    queue: 'executor',
    maxBytes: 256 * 1024,
    onTooLarge: () => '{}',
    handler: async (request) => {
      received.push({
        subject: request.subject,
        headers: request.headers,
        body: JSON.parse(new TextDecoder().decode(request.data)),
      });
      return JSON.stringify({ ok: true, data: { id: ID, state: 'CREATION_SCHEDULED', executionId: ID, items: [] } });
    },
  });
  await responder.ready();
  const config = readDashboardConfig({
    JETCEL_DASHBOARD_USERS: `alice:admin:${await hashPassword('alice-pw')},bob::${await hashPassword('bob-pw')}`,
    JETCEL_AUTH_SECRET: SECRET,
    JETCEL_DASHBOARD_PORT: '1',
    JETCEL_DASHBOARD_REFRESH_MS: '200',
    NATS_URL: nats.url,
  });
  api = await BusJetcelApi.connect({ ...config.nats, keys: SECRET });
  dashboard = await startDashboard({
    config: { ...config, port: 0 },
    api,
    logger: jsonLogger('error'),
  });
});

after(async () => {
  await dashboard?.close();
  await api?.close();
  await responder?.stop();
  await bus?.close();
  await nats?.[Symbol.asyncDispose]();
});

const url = (path: string): string => `${dashboard.url}${path}`;

function get(path: string, cookie?: string): Promise<Response> {
  return fetch(url(path), { redirect: 'manual', headers: cookie ? { cookie } : {} });
}

function post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url(path), {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

async function login(username: string, password: string): Promise<Response> {
  return fetch(url('/login'), {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username, password }).toString(),
  });
}

async function session(username = 'alice', password = 'alice-pw'): Promise<{ cookie: string; csrf: string }> {
  const response = await login(username, password);
  assert.equal(response.status, 303);
  const cookie = (response.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  const page = await (await get('/', cookie)).text();
  const csrf = /<meta name="csrf-token" content="([^"]+)">/.exec(page)?.[1] ?? '';
  assert.ok(csrf, 'the page carries the CSRF token');
  return { cookie, csrf };
}

const GET_ROUTES = [
  '/static/app.js',
  '/static/dom.js',
  '/static/executions.js',
  '/static/app.css',
  '/events',
  '/api/me',
  '/api/executions',
  '/api/executions?status=running&resourceType=instance',
  `/api/executions/${ID}`,
  '/api/resources?type=instance&state=OK',
  '/api/queues',
  '/api/leases',
  '/api/schedules',
  '/api/dead-letters',
  '/no/such/page',
];
const POST_ROUTES = [
  `/api/executions/${ID}/cancel`,
  `/api/dead-letters/${ID}/redrive`,
  '/api/instances',
  '/api/executions',
  '/logout',
];

test('without a session every route is refused: the page redirects to /login, the rest is 401', async () => {
  const page = await get('/');
  assert.equal(page.status, 303);
  assert.equal(page.headers.get('location'), '/login');
  const forged = `${SESSION_COOKIE}=${'A'.repeat(43)}`;
  for (const cookie of [undefined, forged]) {
    for (const path of GET_ROUTES) {
      const response = await get(path, cookie);
      assert.equal(response.status, 401, `GET ${path} (${cookie ? 'forged cookie' : 'no cookie'})`);
      assert.equal(((await response.json()) as { error: { code: string } }).error.code, 'UNAUTHENTICATED');
    }
    for (const path of POST_ROUTES) {
      const response = await post(path, { name: 'x' }, cookie ? { cookie } : {});
      assert.equal(response.status, 401, `POST ${path} (${cookie ? 'forged cookie' : 'no cookie'})`);
    }
  }
  assert.equal(received.length, 0, 'nothing reached jetcel');
  // Only the login form and its stylesheet are public.
  assert.equal((await get('/login')).status, 200);
  assert.equal((await get('/static/login.css')).status, 200);
});

test('login: wrong password or unknown user is 401 (escaped, no cookie); success sets an HttpOnly SameSite=Strict cookie', async () => {
  const wrong = await login('alice', 'nope');
  assert.equal(wrong.status, 401);
  assert.equal(wrong.headers.get('set-cookie'), null);
  const unknown = await login('<script>alert(1)</script>', 'x');
  assert.equal(unknown.status, 401);
  const html = await unknown.text();
  assert.ok(!html.includes('<script>alert(1)'), 'the user name is escaped');
  assert.ok(html.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));

  const ok = await login('alice', 'alice-pw');
  assert.equal(ok.status, 303);
  assert.equal(ok.headers.get('location'), '/');
  const cookie = ok.headers.get('set-cookie') ?? '';
  assert.match(cookie, new RegExp(`^${SESSION_COOKIE}=[\\w-]{43};`));
  assert.match(cookie, /; HttpOnly/);
  assert.match(cookie, /; SameSite=Strict/);
  const page = await get('/', cookie.split(';')[0]);
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-security-policy') ?? '', /script-src 'self'/);
  assert.match(await page.text(), /signed in as <span id="username">alice<\/span> \(admin\)/);
});

test('every GET route answers with a session', async () => {
  const { cookie } = await session();
  for (const path of GET_ROUTES.filter((route) => route !== '/events' && route !== '/no/such/page')) {
    const response = await get(path, cookie);
    assert.equal(response.status, 200, `GET ${path}`);
  }
  assert.equal((await get('/no/such/page', cookie)).status, 404);
  assert.equal((await get('/api/resources?type=instance.>', cookie)).status, 400, 'no wildcard into a subject');
});

test('a POST needs the session CSRF token and the same origin; commands carry the user identity token', async () => {
  const { cookie, csrf } = await session();
  const other = await session('bob', 'bob-pw');
  received.length = 0;
  assert.equal((await post('/api/instances', { name: 'vm' }, { cookie })).status, 403, 'no token');
  assert.equal((await post('/api/instances', { name: 'vm' }, { cookie, 'x-csrf-token': other.csrf })).status, 403);
  assert.equal(
    (await post('/api/instances', { name: 'vm', _csrf: csrf }, { cookie, origin: 'https://evil.example' })).status,
    403,
    'cross-site origin',
  );
  assert.equal(
    (await post('/api/instances', { name: 'vm' }, { cookie, 'x-csrf-token': csrf, 'sec-fetch-site': 'cross-site' }))
      .status,
    403,
  );
  assert.equal(received.length, 0, 'nothing refused reached jetcel');

  const created = await post('/api/instances', { name: 'vm' }, { cookie, 'x-csrf-token': csrf, origin: dashboard.url });
  assert.equal(created.status, 200);
  const cancelled = await post(`/api/executions/${ID}/cancel`, { _csrf: other.csrf }, { cookie: other.cookie });
  assert.equal(cancelled.status, 200, 'the token may come as a field');

  assert.deepEqual(
    received.map((request) => [request.subject, request.body]),
    [
      ['cmd.instance.create', { name: 'vm', cloudSettingsId: 'default' }],
      ['cmd.execution.cancel', { id: ID }],
    ],
  );
  const identities = await Promise.all(
    received.map((request) => verifyIdentityToken(bearerToken(request.headers.Authorization) ?? '', SECRET)),
  );
  assert.deepEqual(identities, [
    { actor: 'alice', roles: ['admin'] },
    { actor: 'bob', roles: [] },
  ]);
});

test('the live stream pushes resource events and ticks, and ends with the session at logout', async () => {
  const { cookie, csrf } = await session();
  const controller = new AbortController();
  const response = await fetch(url('/events'), { headers: { cookie }, signal: controller.signal });
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = '';
  const until = async (pattern: RegExp): Promise<void> => {
    while (!pattern.test(text)) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`stream ended before ${pattern}: ${text}`);
      text += value;
    }
  };
  await until(/event: hello/);
  const event = {
    v: 1,
    eventId: randomUUID(),
    resourceType: 'instance',
    resourceId: ID,
    resourceVersion: 2,
    from: 'CREATING',
    to: 'OK',
    executionId: ID,
    actor: 'alice',
    at: new Date().toISOString(),
  };
  publishCore(bus, `events.instance.${ID}.state_changed`, JSON.stringify(event));
  await until(/event: resource\ndata: .*"to":"OK"/);
  await until(/event: tick/);

  const out = await post('/logout', { _csrf: csrf }, { cookie });
  assert.equal(out.status, 303);
  assert.match(out.headers.get('set-cookie') ?? '', /Max-Age=0/);
  await until(/event: logout/);
  const { done } = await reader.read();
  assert.equal(done, true, 'the stream is closed');
  assert.equal((await get('/api/me', cookie)).status, 401, 'the old cookie is dead');
  controller.abort();
});

test('main refuses to start without users', async () => {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  const service = await spawnService({
    cwd: root,
    entry: 'src/main.ts',
    env: { JETCEL_AUTH_SECRET: SECRET, JETCEL_DASHBOARD_USERS: '', NATS_URL: nats.url },
  });
  assert.equal(await service.exited, 1);
  assert.ok(service.output().some((line) => line.includes('lists no user')));
});
