import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { connectBus, publishCore, serveRequests, type Bus, type RequestServer } from '@jetcel/bus';
import { bearerToken, verifyIdentityToken } from '@jetcel/identity';
import { eventually, startNats, type NatsServerHandle } from '@jetcel/testing';
import {
  BusJetcelApi,
  hashPassword,
  jsonLogger,
  readDashboardConfig,
  startDashboard,
  type RunningDashboard,
} from '../src/index.ts';

// The live stream sends a session only the events of resources its user may read. A stand-in
// executor on real NATS answers query.resource.get like the real one: the owner or an admin.

const SECRET = 'a-dashboard-live-test-secret-0123456789-abc';
const TTL_MS = 400;
const owners = new Map<string, string>();
const lookups: string[] = [];
let nats: NatsServerHandle;
let bus: Bus;
let responder: RequestServer;
let api: BusJetcelApi;
let dashboard: RunningDashboard;

before(async () => {
  nats = await startNats();
  bus = await connectBus({ servers: nats.url, name: 'live-test' });
  responder = serveRequests(bus, {
    subjects: ['query.>'],
    queue: 'executor',
    maxBytes: 256 * 1024,
    onTooLarge: () => '{}',
    handler: async (request) => {
      const caller = await verifyIdentityToken(bearerToken(request.headers.Authorization) ?? '', SECRET);
      const { id } = JSON.parse(new TextDecoder().decode(request.data)) as { id: string };
      lookups.push(`${caller.actor}:${id}`);
      const readable = caller.roles.includes('admin') || owners.get(id) === caller.actor;
      return JSON.stringify(
        readable
          ? { ok: true, data: { type: 'instance', id, fields: { owner: owners.get(id) } } }
          : {
              ok: false,
              error: { code: 'NOT_FOUND', message: `Resource instance ${id} was not found`, retryable: false },
            },
      );
    },
  });
  await responder.ready();
  const users = [
    `root:admin:${await hashPassword('root-pw')}`,
    `alice::${await hashPassword('alice-pw')}`,
    `bob::${await hashPassword('bob-pw')}`,
  ];
  const config = readDashboardConfig({
    JETCEL_DASHBOARD_USERS: users.join(','),
    JETCEL_AUTH_SECRET: SECRET,
    JETCEL_DASHBOARD_PORT: '1',
    JETCEL_DASHBOARD_REFRESH_MS: '60000',
    NATS_URL: nats.url,
  });
  api = await BusJetcelApi.connect({ ...config.nats, keys: SECRET });
  dashboard = await startDashboard({
    config: { ...config, port: 0 },
    api,
    logger: jsonLogger('error'),
    readableTtlMs: TTL_MS,
  });
});

after(async () => {
  await dashboard?.close();
  await api?.close();
  await responder?.stop();
  await bus?.close();
  await nats?.[Symbol.asyncDispose]();
});

interface Stream {
  /** Reads until the stream has shown a resource event of `id`; returns every resource id seen so far, in order. */
  until(id: string): Promise<string[]>;
  close(): void;
}

async function open(username: string): Promise<Stream> {
  const login = await fetch(`${dashboard.url}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username, password: `${username}-pw` }).toString(),
  });
  assert.equal(login.status, 303);
  const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  const controller = new AbortController();
  const response = await fetch(`${dashboard.url}/events`, { headers: { cookie }, signal: controller.signal });
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = '';
  const seen = (): string[] =>
    [...text.matchAll(/event: resource\ndata: (.*)\n/g)].map(
      (match) => (JSON.parse(match[1] ?? '{}') as { resourceId: string; to: string | null }).resourceId,
    );
  const read = async (done: () => boolean): Promise<void> => {
    while (!done()) {
      const chunk = await reader.read();
      if (chunk.done) throw new Error(`the stream ended: ${text}`);
      text += chunk.value;
    }
  };
  await read(() => text.includes('event: hello'));
  return {
    async until(id) {
      await read(() => seen().includes(id));
      const all = seen();
      text = '';
      return all;
    },
    close: () => controller.abort(),
  };
}

function publish(id: string, to: string | null, actor: string): void {
  const event = {
    v: 1,
    eventId: randomUUID(),
    resourceType: 'instance',
    resourceId: id,
    resourceVersion: 2,
    from: 'CREATING',
    to,
    executionId: randomUUID(),
    actor,
    at: new Date().toISOString(),
  };
  publishCore(bus, `events.instance.${id}.${to === null ? 'deleted' : 'state_changed'}`, JSON.stringify(event));
}

/** A resource of `owner`; its events are published after the others as a marker: once seen, the rest was decided. */
function resource(owner: string): string {
  const id = randomUUID();
  owners.set(id, owner);
  return id;
}

test("a session gets the events of its user's resources only; an admin's gets all; one lookup per user and resource", async () => {
  const [alice, bob, root] = [await open('alice'), await open('bob'), await open('root')];
  const alices = resource('alice');
  const bobs = resource('bob');
  const [aliceDone, bobDone] = [resource('alice'), resource('bob')];
  lookups.length = 0;
  publish(alices, 'CREATING', 'alice');
  publish(bobs, 'CREATING', 'bob');
  publish(alices, 'OK', 'alice');
  publish(bobs, 'OK', 'bob');
  publish(aliceDone, 'OK', 'alice');
  publish(bobDone, 'OK', 'bob');
  assert.deepEqual(await alice.until(aliceDone), [alices, alices, aliceDone]);
  assert.deepEqual(await bob.until(bobDone), [bobs, bobs, bobDone]);
  assert.deepEqual(await root.until(bobDone), [alices, bobs, alices, bobs, aliceDone, bobDone]);
  // Cached: alice and bob each asked once per resource (both asked about all four); the admin never.
  // Alice's session may still be deciding bob's marker when bob's and the admin's streams have it.
  await eventually(() => lookups.length >= 8, { timeoutMs: 5000 }).catch(() => undefined);
  assert.equal(lookups.length, 8, lookups.join(' '));
  assert.ok(lookups.every((lookup) => !lookup.startsWith('root:')));

  // A deletion by an admin reaches the owner who could read the resource, not the other user.
  publish(alices, null, 'root');
  const [aliceNext, bobNext] = [resource('alice'), resource('bob')];
  publish(aliceNext, 'OK', 'alice');
  publish(bobNext, 'OK', 'bob');
  assert.deepEqual(await alice.until(aliceNext), [alices, aliceNext]);
  assert.deepEqual(await bob.until(bobNext), [bobNext]);

  // Bob's resource handed to alice: after the cache lifetime its events go to alice, no longer to bob.
  await new Promise((resolve) => setTimeout(resolve, TTL_MS + 100));
  owners.set(bobs, 'alice');
  const [aliceLast, bobLast] = [resource('alice'), resource('bob')];
  publish(bobs, 'ERRED', 'root');
  publish(aliceLast, 'OK', 'alice');
  publish(bobLast, 'OK', 'bob');
  assert.deepEqual(await alice.until(aliceLast), [bobs, aliceLast]);
  assert.deepEqual(await bob.until(bobLast), [bobLast]);
  for (const stream of [alice, bob, root]) stream.close();
});

test('when the executor does not answer, no event is sent (fail closed)', async () => {
  const alice = await open('alice');
  await responder.stop();
  const alices = resource('alice');
  publish(alices, 'OK', 'alice');
  // Nobody answers the lookup: the event is dropped; the next one, with the executor back, is sent.
  await new Promise((resolve) => setTimeout(resolve, 500));
  responder = serveRequests(bus, {
    subjects: ['query.>'],
    queue: 'executor',
    maxBytes: 256 * 1024,
    onTooLarge: () => '{}',
    handler: async (request) => {
      const { id } = JSON.parse(new TextDecoder().decode(request.data)) as { id: string };
      return JSON.stringify({ ok: true, data: { type: 'instance', id } });
    },
  });
  await responder.ready();
  const next = resource('alice');
  publish(next, 'OK', 'alice');
  assert.deepEqual(await alice.until(next), [next]);
  alice.close();
});

test('the operator tabs are shown to admins only (the executor refuses those queries to anyone else)', async () => {
  const page = async (username: string): Promise<string> => {
    const login = await fetch(`${dashboard.url}/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username, password: `${username}-pw` }).toString(),
    });
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    return (await fetch(dashboard.url, { headers: { cookie } })).text();
  };
  const tabs = (html: string) => [...html.matchAll(/data-tab="([^"]+)"/g)].map((match) => match[1]);
  assert.deepEqual(tabs(await page('bob')), ['executions', 'resources', 'create']);
  assert.deepEqual(tabs(await page('root')), [
    'executions',
    'resources',
    'queues',
    'leases',
    'schedules',
    'dead-letters',
    'create',
  ]);
});
