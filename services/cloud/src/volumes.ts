import type { BarrierWaiter } from './barriers.ts';
import { failAfter, type CloudContext } from './cloud-context.ts';
import { invalidState, notFound, validationFailed } from './errors.ts';
import { buildFaultMessage } from './faults.ts';
import { IdempotencyBook } from './idempotency.ts';
import type { CreateVolumeInput, RequestContext, Volume, VolumeStatus } from './types.ts';

interface VolumeRecord {
  volume: Volume;
  timer: NodeJS.Timeout | null;
  /** Set while a barrier holds the end of the create or extend. */
  held: BarrierWaiter | null;
}

export interface CreatedVolume {
  /** False when the Idempotency-Key was seen before and the existing volume is returned. */
  created: boolean;
  volume: Volume;
}

function view(record: VolumeRecord): Volume {
  return { ...record.volume };
}

/** Block storage volumes: asynchronous create, extend and delete. */
export class VolumeStore {
  readonly #ctx: CloudContext;
  readonly #records = new Map<string, VolumeRecord>();
  readonly #keys = new IdempotencyBook<VolumeRecord>();
  readonly #serverExists: (id: string) => boolean;

  /** `serverExists` tells whether a volume may be attached to a server id. */
  constructor(ctx: CloudContext, serverExists: (id: string) => boolean) {
    this.#ctx = ctx;
    this.#serverExists = serverExists;
  }

  create(input: CreateVolumeInput, request: RequestContext = {}): CreatedVolume {
    this.#ctx.fencing.check(request.fencing);
    const rule = this.#ctx.inject('create', 'volume', input.settingsId);
    const key = request.idempotencyKey;
    const fingerprint = JSON.stringify([input.name, input.settingsId, input.size, input.serverId ?? null]);
    const known = key === undefined ? undefined : this.#keys.find(key, 'create', fingerprint);
    if (known !== undefined) return failAfter(rule, { created: false, volume: view(known) });
    if (input.serverId !== undefined && !this.#serverExists(input.serverId)) throw notFound('server', input.serverId);

    const now = this.#ctx.timestamp();
    const record: VolumeRecord = {
      volume: {
        id: this.#ctx.newId(),
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
    };
    this.#records.set(record.volume.id, record);
    if (key !== undefined) this.#keys.remember(key, 'create', fingerprint, record);
    this.#ctx.stats.volumeCreated(input.settingsId);
    record.timer = this.#ctx.timers.schedule(this.#ctx.delays.buildDelayMs, () => this.#finishCreate(record));
    return failAfter(rule, { created: true, volume: view(record) });
  }

  get(id: string): Volume {
    const record = this.#records.get(id);
    this.#ctx.inject('get', 'volume', record?.volume.settingsId ?? null);
    if (record === undefined) throw notFound('volume', id);
    return view(record);
  }

  list(settingsId?: string): Volume[] {
    this.#ctx.inject('get', 'volume', settingsId ?? null);
    const volumes: Volume[] = [];
    for (const record of this.#records.values()) {
      if (settingsId === undefined || record.volume.settingsId === settingsId) volumes.push(view(record));
    }
    return volumes;
  }

  delete(id: string, request: RequestContext = {}): Volume {
    this.#ctx.fencing.check(request.fencing);
    const key = request.idempotencyKey;
    const known = key === undefined ? undefined : this.#keys.find(key, 'delete', id);
    const record = known ?? this.#records.get(id);
    const rule = this.#ctx.inject('delete', 'volume', record?.volume.settingsId ?? null);
    if (known !== undefined) return failAfter(rule, view(known));
    if (record === undefined) throw notFound('volume', id);
    if (key !== undefined) this.#keys.remember(key, 'delete', id, record);
    if (record.volume.status !== 'deleting') this.#startDelete(record);
    return failAfter(rule, view(record));
  }

  extend(id: string, size: number, request: RequestContext = {}): Volume {
    this.#ctx.fencing.check(request.fencing);
    const record = this.#records.get(id);
    const rule = this.#ctx.inject('action', 'volume', record?.volume.settingsId ?? null);
    if (record === undefined) throw notFound('volume', id);
    const volume = record.volume;
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
    return failAfter(rule, view(record));
  }

  /** Forgets every volume and idempotency key (timers are cleared by the caller). */
  clear(): void {
    this.#records.clear();
    this.#keys.clear();
  }

  #finishCreate(record: VolumeRecord): void {
    record.timer = null;
    record.held = this.#ctx.barriers.arrive('volume-create', record.volume.settingsId, () => {
      record.held = null;
      this.#completeCreate(record);
    });
  }

  #completeCreate(record: VolumeRecord): void {
    const rule = this.#ctx.faults.take('build', 'volume', record.volume.settingsId);
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
      record.volume.fault = buildFaultMessage(rule);
      this.#set(record, 'error');
    }
  }

  #startDelete(record: VolumeRecord): void {
    this.#ctx.timers.cancel(record.timer);
    this.#ctx.barriers.cancel(record.held);
    record.held = null;
    this.#set(record, 'deleting');
    record.timer = this.#ctx.timers.schedule(this.#ctx.delays.deleteDelayMs, () => {
      record.timer = null;
      this.#records.delete(record.volume.id);
      this.#set(record, 'deleted');
      this.#ctx.stats.volumeRemoved(record.volume.settingsId);
    });
  }

  #set(record: VolumeRecord, status: VolumeStatus): void {
    record.volume.status = status;
    record.volume.updatedAt = this.#ctx.timestamp();
  }
}
