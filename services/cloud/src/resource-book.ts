import type { BarrierWaiter } from './barriers.ts';
import { failAfter, type CloudContext } from './cloud-context.ts';
import { notFound } from './errors.ts';
import { IdempotencyBook } from './idempotency.ts';
import type { FaultResource, RequestContext } from './types.ts';

/** What every simulated resource has. */
export interface Resource {
  id: string;
  settingsId: string;
  updatedAt: string;
}

export interface ResourceRecord<T extends Resource> {
  item: T;
  timer: NodeJS.Timeout | null;
  /** Set while a barrier holds the end of an operation. */
  held: BarrierWaiter | null;
}

export interface ResourceBookOptions<T extends Resource, R extends ResourceRecord<T>> {
  resource: FaultResource;
  /** The fields set when a delete starts, and once it is done. */
  deleting: Partial<T>;
  deleted: Partial<T>;
  /** A new record is in the book: count it and start its asynchronous create. */
  created(record: R): void;
  /** A delete starts (timers and barriers already cancelled). */
  deleteStarted?(record: R): void;
  /** The delete is done and the record forgotten. */
  removed(record: R): void;
}

/**
 * The create / get / list / delete every simulated resource shares: fault injection, fencing,
 * Idempotency-Keys and the asynchronous delete. The kind-specific operations live with the kind.
 */
export class ResourceBook<T extends Resource, R extends ResourceRecord<T>> {
  readonly #ctx: CloudContext;
  readonly #options: ResourceBookOptions<T, R>;
  readonly #records = new Map<string, R>();
  readonly #keys = new IdempotencyBook<R>();

  constructor(ctx: CloudContext, options: ResourceBookOptions<T, R>) {
    this.#ctx = ctx;
    this.#options = options;
  }

  /**
   * Creates a record with `build(id, now)`, or answers the one a repeated Idempotency-Key made
   * (`fingerprint` tells a reuse with other input). `check` runs before anything is created.
   */
  create(
    input: { settingsId: string; fingerprint: unknown[] },
    request: RequestContext,
    build: (id: string, now: string) => R,
    check: () => void = () => {},
  ): { created: boolean; item: T } {
    this.#ctx.fencing.check(request.fencing);
    const rule = this.#ctx.inject('create', this.#options.resource, input.settingsId);
    const key = request.idempotencyKey;
    const fingerprint = JSON.stringify(input.fingerprint);
    const known = key === undefined ? undefined : this.#keys.find(key, 'create', fingerprint);
    if (known !== undefined) return failAfter(rule, { created: false, item: view(known) });
    check();
    const record = build(this.#ctx.newId(), this.#ctx.timestamp());
    this.#records.set(record.item.id, record);
    if (key !== undefined) this.#keys.remember(key, 'create', fingerprint, record);
    this.#options.created(record);
    return failAfter(rule, { created: true, item: view(record) });
  }

  get(id: string): T {
    const record = this.#records.get(id);
    this.#ctx.inject('get', this.#options.resource, record?.item.settingsId ?? null);
    if (record === undefined) throw notFound(this.#options.resource, id);
    return view(record);
  }

  /** The record (deleting ones included), or undefined; no fault injection. */
  find(id: string): R | undefined {
    return this.#records.get(id);
  }

  list(settingsId?: string): T[] {
    this.#ctx.inject('get', this.#options.resource, settingsId ?? null);
    const items: T[] = [];
    for (const record of this.#records.values()) {
      if (settingsId === undefined || record.item.settingsId === settingsId) items.push(view(record));
    }
    return items;
  }

  delete(id: string, request: RequestContext): T {
    this.#ctx.fencing.check(request.fencing);
    const key = request.idempotencyKey;
    const known = key === undefined ? undefined : this.#keys.find(key, 'delete', id);
    const record = known ?? this.#records.get(id);
    const rule = this.#ctx.inject('delete', this.#options.resource, record?.item.settingsId ?? null);
    if (known !== undefined) return failAfter(rule, view(known));
    if (record === undefined) throw notFound(this.#options.resource, id);
    if (key !== undefined) this.#keys.remember(key, 'delete', id, record);
    if (!this.#matches(record, this.#options.deleting)) this.#startDelete(record);
    return failAfter(rule, view(record));
  }

  /**
   * Runs a kind-specific operation on an existing record: fencing, fault injection (`op`), and an
   * Idempotency-Key that answers the record as it is now when `fingerprint` is given.
   */
  operate(
    id: string,
    op: 'update' | 'action',
    request: RequestContext,
    run: (record: R) => void,
    fingerprint?: string,
  ): T {
    this.#ctx.fencing.check(request.fencing);
    const key = fingerprint === undefined ? undefined : request.idempotencyKey;
    const known = key === undefined || fingerprint === undefined ? undefined : this.#keys.find(key, op, fingerprint);
    const record = known ?? this.#records.get(id);
    const rule = this.#ctx.inject(op, this.#options.resource, record?.item.settingsId ?? null);
    if (known !== undefined) return failAfter(rule, view(known));
    if (record === undefined) throw notFound(this.#options.resource, id);
    if (key !== undefined && fingerprint !== undefined) this.#keys.remember(key, op, fingerprint, record);
    run(record);
    return failAfter(rule, view(record));
  }

  /** Sets `fields` and stamps updatedAt. */
  update(record: R, fields: Partial<T>): void {
    Object.assign(record.item, fields);
    record.item.updatedAt = this.#ctx.timestamp();
  }

  /** Forgets every record and idempotency key (timers are cleared by the caller). */
  clear(): void {
    this.#records.clear();
    this.#keys.clear();
  }

  #startDelete(record: R): void {
    this.#ctx.timers.cancel(record.timer);
    this.#ctx.barriers.cancel(record.held);
    record.held = null;
    this.#options.deleteStarted?.(record);
    this.update(record, this.#options.deleting);
    record.timer = this.#ctx.timers.schedule(this.#ctx.delays.deleteDelayMs, () => {
      record.timer = null;
      this.#records.delete(record.item.id);
      this.update(record, this.#options.deleted);
      this.#options.removed(record);
    });
  }

  #matches(record: R, fields: Partial<T>): boolean {
    return Object.entries(fields).every(([name, value]) => record.item[name as keyof T] === value);
  }
}

function view<T extends Resource>(record: ResourceRecord<T>): T {
  return { ...record.item };
}
