import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  defineBackendTasks,
  defineExecutor,
  defineTask,
  sameNameResourceAndArgs,
  waitUntilNotBusy,
  WAIT_NOT_BUSY_TASK,
  type BackendCall,
  type BackendReading,
  type EqualityPredicate,
  type ResourcePatch,
} from '../src/index.ts';

// The snippets of docs/write-your-own.md (generic tasks, equality, declared limits), compiled
// and run here so the docs stay true to the code.

interface CloudClient {
  renameServer(id: string, name: string, options: { signal: AbortSignal; idempotencyKey: string }): Promise<void>;
  getServer(id: string, options: { signal: AbortSignal }): Promise<{ status: string; fault?: string } | null>;
}

// --- docs: generic tasks ---
class ServerBackend {
  constructor(private readonly cloud: CloudClient) {}
  /** A backend method: gets the step's resource and its arguments; returns what to record. */
  async rename(call: BackendCall<{ name: string }>): Promise<ResourcePatch> {
    const { signal, idempotencyKey } = call;
    await this.cloud.renameServer(call.resource.backendId ?? '', call.args.name, { signal, idempotencyKey });
    return { fields: { name: call.args.name } };
  }
  /** A backend getter: the object's state, or null once it is gone. */
  async server(call: BackendCall): Promise<BackendReading | null> {
    const server = await this.cloud.getServer(call.resource.backendId ?? '', { signal: call.signal });
    return server && { state: server.status, ...(server.fault ? { fault: server.fault } : {}) };
  }
}

const servers = defineBackendTasks({
  prefix: 'server',
  noun: 'Server',
  backend: (services: { servers: ServerBackend }) => services.servers,
});

const serverRename = defineExecutor<{ name: string; volume: string }>({
  name: 'server.rename',
  kind: 'update',
  resourceType: 'server',
  tasks: [...servers.tasks, WAIT_NOT_BUSY_TASK],
  steps: ({ params }) => [
    waitUntilNotBusy(params.volume, { intervalMs: 2000 }), // Waldur's PollStateTask
    servers.call('rename', { name: params.name }, { before: { transition: 'begin_updating' } }),
    servers.pollRuntimeState('server', { success: ['ACTIVE'], erred: ['ERROR'], intervalMs: 1000, maxPolls: 60 }),
  ],
});
// --- end ---

// --- docs: equality ---
/** One sync per tenant at a time, whatever resource it was asked for. */
const sameTenant: EqualityPredicate = (candidate, active) =>
  JSON.stringify(candidate.args) === JSON.stringify(active.args);

const syncTenant = defineTask({
  name: 'tenant.sync',
  queue: 'background',
  equality: sameTenant, // or 'name', 'resource', 'none', or sameNameResourceAndArgs
  async run() {},
});
// --- end ---

// --- docs: declared limits ---
const serverCreate = defineExecutor<{ settings: string }>({
  name: 'server.create',
  kind: 'create',
  resourceType: 'server',
  tasks: [...servers.tasks],
  throttle: { kind: 'server_provision', scope: ({ params }) => params.settings, limit: 2 },
  steps: () => [servers.call('rename', { name: 'new' }, { throttled: true })],
});
// --- end ---

test('the docs examples build what they say', () => {
  const plan = serverRename.steps({
    resource: { type: 'server', id: 's1' } as never,
    params: { name: 'web-2', volume: 'volume:v1' },
  });
  assert.deepEqual(
    plan.map((node) => ('task' in node ? node.task : 'group')),
    ['jetcel.wait_not_busy', 'server.backend_call', 'server.poll_runtime_state'],
  );
  assert.equal(syncTenant.equality, sameTenant);
  assert.equal(typeof sameNameResourceAndArgs, 'function');
  assert.equal(serverCreate.throttle?.limit, 2);
});
