import type { CloudContext } from './cloud-context.ts';
import { invalidState, notFound, validationFailed } from './errors.ts';
import { buildFaultMessage } from './faults.ts';
import { ResourceBook, type ResourceRecord } from './resource-book.ts';
import type { CreateVolumeInput, RequestContext, Volume, VolumeStatus } from './types.ts';

type VolumeRecord = ResourceRecord<Volume>;

export interface CreatedVolume {
  /** False when the Idempotency-Key was seen before and the existing volume is returned. */
  created: boolean;
  volume: Volume;
}

/** Block storage volumes: asynchronous create, extend and delete. */
export class VolumeStore {
  readonly #ctx: CloudContext;
  readonly #book: ResourceBook<Volume, VolumeRecord>;
  readonly #serverExists: (id: string) => boolean;

  /** `serverExists` tells whether a volume may be attached to a server id. */
  constructor(ctx: CloudContext, serverExists: (id: string) => boolean) {
    this.#ctx = ctx;
    this.#serverExists = serverExists;
    this.#book = new ResourceBook<Volume, VolumeRecord>(ctx, {
      resource: 'volume',
      deleting: { status: 'deleting' },
      deleted: { status: 'deleted' },
      created: (record) => {
        ctx.stats.volumeCreated(record.item.settingsId);
        record.timer = ctx.timers.schedule(ctx.delays.buildDelayMs, () => this.#finishCreate(record));
      },
      removed: (record) => ctx.stats.volumeRemoved(record.item.settingsId),
    });
  }

  create(input: CreateVolumeInput, request: RequestContext = {}): CreatedVolume {
    const fingerprint = [input.name, input.settingsId, input.size, input.serverId ?? null];
    const { created, item } = this.#book.create(
      { settingsId: input.settingsId, fingerprint },
      request,
      (id, now) => ({
        item: {
          id,
          name: input.name,
          settingsId: input.settingsId,
          size: input.size,
          status: 'creating',
          serverId: input.serverId ?? null,
          createdAt: now,
          updatedAt: now,
        },
        timer: null,
        held: null,
      }),
      () => {
        if (input.serverId !== undefined && !this.#serverExists(input.serverId))
          throw notFound('server', input.serverId);
      },
    );
    return { created, volume: item };
  }

  get(id: string): Volume {
    return this.#book.get(id);
  }

  list(settingsId?: string): Volume[] {
    return this.#book.list(settingsId);
  }

  delete(id: string, request: RequestContext = {}): Volume {
    return this.#book.delete(id, request);
  }

  extend(id: string, size: number, request: RequestContext = {}): Volume {
    return this.#book.operate(id, 'action', request, (record) => {
      const volume = record.item;
      if (volume.status !== 'available') {
        throw invalidState(`cannot extend volume ${id} while it is ${volume.status}`);
      }
      if (size <= volume.size) {
        throw validationFailed(`new size ${size} must be greater than the current size ${volume.size}`);
      }
      this.#set(record, 'extending');
      record.timer = this.#ctx.timers.schedule(this.#ctx.delays.actionDelayMs, () => {
        record.timer = null;
        record.held = this.#ctx.barriers.arrive('volume-extend', volume.settingsId, () => {
          record.held = null;
          volume.size = size;
          this.#set(record, 'available');
        });
      });
    });
  }

  /** Forgets every volume and idempotency key (timers are cleared by the caller). */
  clear(): void {
    this.#book.clear();
  }

  #finishCreate(record: VolumeRecord): void {
    record.timer = null;
    record.held = this.#ctx.barriers.arrive('volume-create', record.item.settingsId, () => {
      record.held = null;
      this.#completeCreate(record);
    });
  }

  #completeCreate(record: VolumeRecord): void {
    const rule = this.#ctx.faults.take('build', 'volume', record.item.settingsId);
    if (rule?.mode === 'timeout') return; // stuck in 'creating' until deleted
    if (rule?.mode === 'delay') {
      // The create takes delayMs longer, then succeeds; a delete cancels it.
      record.timer = this.#ctx.timers.schedule(rule.delayMs ?? 0, () => {
        record.timer = null;
        this.#set(record, 'available');
      });
      return;
    }
    if (rule === null) {
      this.#set(record, 'available');
    } else {
      record.item.fault = buildFaultMessage(rule);
      this.#set(record, 'error');
    }
  }

  #set(record: VolumeRecord, status: VolumeStatus): void {
    this.#book.update(record, { status });
  }
}
