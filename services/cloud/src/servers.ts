import type { BarrierWaiter } from './barriers.ts';
import { failAfter, type CloudContext } from './cloud-context.ts';
import { invalidState, notFound, validationFailed } from './errors.ts';
import { buildFaultMessage } from './faults.ts';
import { IdempotencyBook } from './idempotency.ts';
import type {
  CreateServerInput,
  RenameServerInput,
  RequestContext,
  Server,
  ServerAction,
  ServerStatus,
} from './types.ts';

export const DEFAULT_FLAVOR = 'm1.small';

interface ServerRecord {
  server: Server;
  timer: NodeJS.Timeout | null;
  /** Set while a barrier holds the end of the build. */
  held: BarrierWaiter | null;
  /** True while the server counts as building in the stats. */
  building: boolean;
}

export interface CreatedServer {
  /** False when the Idempotency-Key was seen before and the existing server is returned. */
  created: boolean;
  server: Server;
}

function view(record: ServerRecord): Server {
  return { ...record.server };
}

/** The servers (VMs): asynchronous build, delete and actions. */
export class ServerFleet {
  readonly #ctx: CloudContext;
  readonly #records = new Map<string, ServerRecord>();
  readonly #keys = new IdempotencyBook<ServerRecord>();

  constructor(ctx: CloudContext) {
    this.#ctx = ctx;
  }

  create(input: CreateServerInput, request: RequestContext = {}): CreatedServer {
    this.#ctx.fencing.check(request.fencing);
    const rule = this.#ctx.inject('create', 'server', input.settingsId);
    const key = request.idempotencyKey;
    const fingerprint = JSON.stringify([input.name, input.settingsId, input.flavor ?? null, input.imageId ?? null]);
    const known = key === undefined ? undefined : this.#keys.find(key, 'create', fingerprint);
    if (known !== undefined) return failAfter(rule, { created: false, server: view(known) });

    const now = this.#ctx.timestamp();
    const record: ServerRecord = {
      server: {
        id: this.#ctx.newId(),
        name: input.name,
        settingsId: input.settingsId,
        status: 'BUILD',
        taskState: null,
        flavor: input.flavor ?? DEFAULT_FLAVOR,
        imageId: input.imageId ?? null,
        createdAt: now,
        updatedAt: now,
      },
      timer: null,
      held: null,
      building: true,
    };
    this.#records.set(record.server.id, record);
    if (key !== undefined) this.#keys.remember(key, 'create', fingerprint, record);
    this.#ctx.stats.serverCreated(input.settingsId);
    record.timer = this.#ctx.timers.schedule(this.#ctx.delays.buildDelayMs, () => this.#finishBuild(record));
    return failAfter(rule, { created: true, server: view(record) });
  }

  get(id: string): Server {
    const record = this.#records.get(id);
    this.#ctx.inject('get', 'server', record?.server.settingsId ?? null);
    if (record === undefined) throw notFound('server', id);
    return view(record);
  }

  /** Whether the server exists (DELETING included); no fault injection, for the other models. */
  has(id: string): boolean {
    return this.#records.has(id);
  }

  /** The server as it is now (DELETING included), or undefined; no fault injection, for the other models. */
  peek(id: string): Server | undefined {
    const record = this.#records.get(id);
    return record === undefined ? undefined : view(record);
  }

  list(settingsId?: string): Server[] {
    this.#ctx.inject('get', 'server', settingsId ?? null);
    const servers: Server[] = [];
    for (const record of this.#records.values()) {
      if (settingsId === undefined || record.server.settingsId === settingsId) servers.push(view(record));
    }
    return servers;
  }

  delete(id: string, request: RequestContext = {}): Server {
    this.#ctx.fencing.check(request.fencing);
    const key = request.idempotencyKey;
    const known = key === undefined ? undefined : this.#keys.find(key, 'delete', id);
    const record = known ?? this.#records.get(id);
    const rule = this.#ctx.inject('delete', 'server', record?.server.settingsId ?? null);
    if (known !== undefined) return failAfter(rule, view(known));
    if (record === undefined) throw notFound('server', id);
    if (key !== undefined) this.#keys.remember(key, 'delete', id, record);
    if (record.server.status !== 'DELETING') this.#startDelete(record);
    return failAfter(rule, view(record));
  }

  /** Renames the server, in any state; a repeated Idempotency-Key answers the server as it is now. */
  rename(id: string, input: RenameServerInput, request: RequestContext = {}): Server {
    this.#ctx.fencing.check(request.fencing);
    const key = request.idempotencyKey;
    const fingerprint = JSON.stringify([id, input.name]);
    const known = key === undefined ? undefined : this.#keys.find(key, 'update', fingerprint);
    const record = known ?? this.#records.get(id);
    const rule = this.#ctx.inject('update', 'server', record?.server.settingsId ?? null);
    if (known !== undefined) return failAfter(rule, view(known));
    if (record === undefined) throw notFound('server', id);
    if (key !== undefined) this.#keys.remember(key, 'update', fingerprint, record);
    record.server.name = input.name;
    record.server.updatedAt = this.#ctx.timestamp();
    return failAfter(rule, view(record));
  }

  act(id: string, action: ServerAction, request: RequestContext = {}): Server {
    this.#ctx.fencing.check(request.fencing);
    const record = this.#records.get(id);
    const rule = this.#ctx.inject('action', 'server', record?.server.settingsId ?? null);
    if (record === undefined) throw notFound('server', id);
    const server = record.server;
    checkActionAllowed(server, action);
    let done: ServerStatus = 'ACTIVE';
    if (action.action === 'resize') {
      this.#set(record, 'RESIZE', 'resizing');
    } else if (action.action === 'start') {
      this.#set(record, server.status, 'powering-on');
    } else {
      this.#set(record, server.status, 'powering-off');
      done = 'SHUTOFF';
    }
    record.timer = this.#ctx.timers.schedule(this.#ctx.delays.actionDelayMs, () => {
      record.timer = null;
      if (action.action === 'resize') server.flavor = action.flavor;
      this.#set(record, done, null);
    });
    return failAfter(rule, view(record));
  }

  /** Forgets every server and idempotency key (timers are cleared by the caller). */
  clear(): void {
    this.#records.clear();
    this.#keys.clear();
  }

  #finishBuild(record: ServerRecord): void {
    record.timer = null;
    record.held = this.#ctx.barriers.arrive('build', record.server.settingsId, () => {
      record.held = null;
      this.#completeBuild(record);
    });
  }

  #completeBuild(record: ServerRecord): void {
    const settingsId = record.server.settingsId;
    const rule = this.#ctx.faults.take('build', 'server', settingsId);
    if (rule?.mode === 'timeout') return; // stuck in BUILD until deleted
    if (rule?.mode === 'delay') {
      // The build takes delayMs longer, then succeeds; a delete cancels it like any build.
      record.timer = this.#ctx.timers.schedule(rule.delayMs ?? 0, () => {
        record.timer = null;
        this.#leaveBuild(record);
        this.#set(record, 'ACTIVE', null);
      });
      return;
    }
    this.#leaveBuild(record);
    if (rule === null) {
      this.#set(record, 'ACTIVE', null);
    } else {
      record.server.fault = buildFaultMessage(rule);
      this.#set(record, 'ERROR', null);
    }
  }

  #startDelete(record: ServerRecord): void {
    this.#ctx.timers.cancel(record.timer);
    this.#ctx.barriers.cancel(record.held);
    record.held = null;
    this.#leaveBuild(record);
    this.#set(record, 'DELETING', 'deleting');
    record.timer = this.#ctx.timers.schedule(this.#ctx.delays.deleteDelayMs, () => {
      record.timer = null;
      this.#records.delete(record.server.id);
      this.#set(record, 'DELETED', null);
      this.#ctx.stats.serverRemoved(record.server.settingsId);
    });
  }

  #leaveBuild(record: ServerRecord): void {
    if (!record.building) return;
    record.building = false;
    this.#ctx.stats.buildEnded(record.server.settingsId);
  }

  #set(record: ServerRecord, status: ServerStatus, taskState: Server['taskState']): void {
    record.server.status = status;
    record.server.taskState = taskState;
    record.server.updatedAt = this.#ctx.timestamp();
  }
}

/** OpenStack-like rules: one task at a time, start from SHUTOFF, stop from ACTIVE, resize to another flavor. */
function checkActionAllowed(server: Server, action: ServerAction): void {
  const verb = action.action;
  if (server.taskState !== null || (server.status !== 'ACTIVE' && server.status !== 'SHUTOFF')) {
    const busy = server.taskState === null ? server.status : `${server.status} (${server.taskState})`;
    throw invalidState(`cannot ${verb} server ${server.id} while it is ${busy}`);
  }
  if (verb === 'start' && server.status !== 'SHUTOFF') {
    throw invalidState(`cannot start server ${server.id}: it is already ${server.status}`);
  }
  if (verb === 'stop' && server.status !== 'ACTIVE') {
    throw invalidState(`cannot stop server ${server.id}: it is ${server.status}`);
  }
  if (action.action === 'resize' && action.flavor === server.flavor) {
    throw validationFailed(`server ${server.id} already has flavor ${server.flavor}`);
  }
}
