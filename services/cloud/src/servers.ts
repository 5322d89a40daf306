import type { CloudContext } from './cloud-context.ts';
import { invalidState, validationFailed } from './errors.ts';
import { buildFaultMessage } from './faults.ts';
import { ResourceBook, type ResourceRecord } from './resource-book.ts';
import type {
  CreateServerInput,
  RenameServerInput,
  RequestContext,
  Server,
  ServerAction,
  ServerStatus,
} from './types.ts';

export const DEFAULT_FLAVOR = 'm1.small';

interface ServerRecord extends ResourceRecord<Server> {
  /** True while the server counts as building in the stats. */
  building: boolean;
}

export interface CreatedServer {
  /** False when the Idempotency-Key was seen before and the existing server is returned. */
  created: boolean;
  server: Server;
}

/** The servers (VMs): asynchronous build, delete and actions. */
export class ServerFleet {
  readonly #ctx: CloudContext;
  readonly #book: ResourceBook<Server, ServerRecord>;

  constructor(ctx: CloudContext) {
    this.#ctx = ctx;
    this.#book = new ResourceBook<Server, ServerRecord>(ctx, {
      resource: 'server',
      deleting: { status: 'DELETING', taskState: 'deleting' },
      deleted: { status: 'DELETED', taskState: null },
      created: (record) => {
        ctx.stats.serverCreated(record.item.settingsId);
        record.timer = ctx.timers.schedule(ctx.delays.buildDelayMs, () => this.#finishBuild(record));
      },
      deleteStarted: (record) => this.#leaveBuild(record),
      removed: (record) => ctx.stats.serverRemoved(record.item.settingsId),
    });
  }

  create(input: CreateServerInput, request: RequestContext = {}): CreatedServer {
    const fingerprint = [input.name, input.settingsId, input.flavor ?? null, input.imageId ?? null];
    const { created, item } = this.#book.create({ settingsId: input.settingsId, fingerprint }, request, (id, now) => ({
      item: {
        id,
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
    }));
    return { created, server: item };
  }

  get(id: string): Server {
    return this.#book.get(id);
  }

  /** Whether the server exists (DELETING included); no fault injection, for the other models. */
  has(id: string): boolean {
    return this.#book.find(id) !== undefined;
  }

  /** The server as it is now (DELETING included), or undefined; no fault injection, for the other models. */
  peek(id: string): Server | undefined {
    const record = this.#book.find(id);
    return record === undefined ? undefined : { ...record.item };
  }

  list(settingsId?: string): Server[] {
    return this.#book.list(settingsId);
  }

  delete(id: string, request: RequestContext = {}): Server {
    return this.#book.delete(id, request);
  }

  /** Renames the server, in any state; a repeated Idempotency-Key answers the server as it is now. */
  rename(id: string, input: RenameServerInput, request: RequestContext = {}): Server {
    const fingerprint = JSON.stringify([id, input.name]);
    return this.#book.operate(
      id,
      'update',
      request,
      (record) => this.#book.update(record, { name: input.name }),
      fingerprint,
    );
  }

  act(id: string, action: ServerAction, request: RequestContext = {}): Server {
    return this.#book.operate(id, 'action', request, (record) => {
      const server = record.item;
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
    });
  }

  /** Forgets every server and idempotency key (timers are cleared by the caller). */
  clear(): void {
    this.#book.clear();
  }

  #finishBuild(record: ServerRecord): void {
    record.timer = null;
    record.held = this.#ctx.barriers.arrive('build', record.item.settingsId, () => {
      record.held = null;
      this.#completeBuild(record);
    });
  }

  #completeBuild(record: ServerRecord): void {
    const settingsId = record.item.settingsId;
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
      record.item.fault = buildFaultMessage(rule);
      this.#set(record, 'ERROR', null);
    }
  }

  #leaveBuild(record: ServerRecord): void {
    if (!record.building) return;
    record.building = false;
    this.#ctx.stats.buildEnded(record.item.settingsId);
  }

  #set(record: ServerRecord, status: ServerStatus, taskState: Server['taskState']): void {
    this.#book.update(record, { status, taskState });
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
