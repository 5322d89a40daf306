import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { EVENT_NAMES } from '@jetcel/contracts';
import {
  isResourceState,
  NotFoundError,
  type Json,
  type JsonObject,
  type ResourcePatch,
  type ResourceSnapshot,
  type FindOptions,
} from '@jetcel/core';
import { ConcurrentUpdateError } from './errors.ts';
import type { OutboxStore } from './outbox-store.ts';
import type { ResourceTable } from './resource-types.ts';
import { patchChanges, resourceEvent, type WriteContext } from './resource-patch.ts';
import { quoteIdent, sql, statementBatches, type SqlRunner } from './sql.ts';

export type { WriteContext } from './resource-patch.ts';

/** Only the rows whose domain field `field` equals `owner` (a caller's own resources). */
export interface OwnerFilter {
  field: string;
  owner: string;
}

/** Resource rows of every registered type: read as snapshots, written by compare-and-set. */
export class ResourceStore {
  /** `builder`: builds the entity's own insert (its properties, types, defaults); `em` runs it. */
  constructor(
    private readonly em: SqlRunner,
    private readonly builder: EntityManager,
    private readonly tables: Map<string, ResourceTable>,
    private readonly outbox: OutboxStore,
  ) {}

  table(type: string): ResourceTable {
    const table = this.tables.get(type);
    if (!table) throw new NotFoundError('Resource type', type);
    return table;
  }

  /** The registered resource types, sorted. */
  types(): string[] {
    return [...this.tables.keys()].sort();
  }

  /**
   * How many resources of a type (optionally only an owner's: none for a type without the owner
   * field) are in each state (states with none are absent).
   */
  async countByState(type: string, owned?: OwnerFilter): Promise<Record<string, number>> {
    const table = this.table(type);
    const column = owned ? ownerColumn(table, owned) : null;
    if (owned && column === null) return {};
    const where = column === null ? '' : `where ${quoteIdent(column)} = ?`;
    const rows = await sql<{ state: string; n: string }>(
      this.em,
      `select state, count(*) as n from ?? ${where} group by state order by state`,
      [table.tableName, ...(owned ? [owned.owner] : [])],
    );
    return Object.fromEntries(rows.map((row) => [row.state, Number(row.n)]));
  }

  async get(type: string, id: string, options: { forUpdate?: boolean } = {}): Promise<ResourceSnapshot | null> {
    const table = this.table(type);
    const rows = await sql(this.em, `select * from ?? where id = ?${options.forUpdate ? ' for update' : ''}`, [
      table.tableName,
      id,
    ]);
    const row = rows[0];
    return row ? toSnapshot(table, row) : null;
  }

  /** Resources of one type by id (those that exist; any order). */
  async getMany(type: string, ids: string[]): Promise<ResourceSnapshot[]> {
    if (ids.length === 0) return [];
    const table = this.table(type);
    const rows = await sql(this.em, `select * from ?? where id in (${ids.map(() => '?').join(', ')})`, [
      table.tableName,
      ...ids,
    ]);
    return rows.map((row) => toSnapshot(table, row));
  }

  /** Resources whose domain fields equal the given values (e.g. the volumes of an instance), optionally narrowed. */
  async find(type: string, where: Record<string, Json>, options: FindOptions = {}): Promise<ResourceSnapshot[]> {
    const table = this.table(type);
    const clauses: string[] = [];
    const params: unknown[] = [table.tableName];
    for (const [property, value] of Object.entries(where)) {
      const column = table.columns.get(property);
      if (!column) throw new TypeError(`Unknown ${type} property ${property}`);
      clauses.push(value === null ? `${quoteIdent(column)} is null` : `${quoteIdent(column)} = ?`);
      if (value !== null) params.push(value);
    }
    if (options.states?.length) {
      clauses.push(`state in (${options.states.map(() => '?').join(', ')})`);
      params.push(...options.states);
    }
    if (options.modifiedBefore) {
      clauses.push('modified_at < ?');
      params.push(options.modifiedBefore.toISOString());
    }
    if (options.hasBackendId !== undefined)
      clauses.push(options.hasBackendId ? "coalesce(backend_id, '') <> ''" : "coalesce(backend_id, '') = ''");
    params.push(options.limit ?? 1000);
    const rows = await sql(
      this.em,
      `select * from ?? ${clauses.length ? `where ${clauses.join(' and ')}` : ''} order by created_at, id limit ?`,
      params,
    );
    return rows.map((row) => toSnapshot(table, row));
  }

  /**
   * The newest resources of a type, optionally in one state and only an owner's (filtered before
   * limit and offset; none for a type without the owner field).
   */
  async list(
    type: string,
    options: { state?: string; limit?: number; offset?: number; owned?: OwnerFilter } = {},
  ): Promise<ResourceSnapshot[]> {
    const table = this.table(type);
    const clauses: string[] = [];
    const params: unknown[] = [table.tableName];
    if (options.state) {
      clauses.push('state = ?');
      params.push(options.state);
    }
    if (options.owned) {
      const column = ownerColumn(table, options.owned);
      if (column === null) return [];
      clauses.push(`${quoteIdent(column)} = ?`);
      params.push(options.owned.owner);
    }
    params.push(options.limit ?? 100, options.offset ?? 0);
    const where = clauses.length ? `where ${clauses.join(' and ')}` : '';
    const rows = await sql(this.em, `select * from ?? ${where} order by created_at desc, id limit ? offset ?`, params);
    return rows.map((row) => toSnapshot(table, row));
  }

  /**
   * A condition on jetcel_execution's (resource_type, resource_id): the execution's resource is
   * one of the owner's (a type without the owner field holds none). `false` when no type has it.
   */
  ownedByCondition(owned: OwnerFilter): { text: string; params: unknown[] } {
    const parts: string[] = [];
    const params: unknown[] = [];
    for (const table of this.tables.values()) {
      const column = ownerColumn(table, owned);
      if (column === null) continue;
      parts.push(
        `(resource_type = ? and resource_id in (select id::text from ${quoteIdent(table.tableName)} where ${quoteIdent(column)} = ?))`,
      );
      params.push(table.type, owned.owner);
    }
    return parts.length ? { text: `(${parts.join(' or ')})`, params } : { text: 'false', params: [] };
  }

  /** Inserts a new resource in CREATION_SCHEDULED and writes its first event. */
  async insert(
    type: string,
    fields: Record<string, Json>,
    context: WriteContext,
    id: string = randomUUID(),
  ): Promise<ResourceSnapshot> {
    const [snapshot] = await this.#insertRows(type, [{ id, ...fields }], context);
    if (!snapshot) throw new Error(`Inserted ${type} ${id} is not readable`);
    return snapshot;
  }

  /**
   * Inserts new resources of one type in CREATION_SCHEDULED with one statement (a bulk beyond
   * PostgreSQL's bind parameter limit takes one more per slice), each with its first event.
   * Answers the snapshots in input order.
   */
  insertMany(type: string, rows: Record<string, Json>[], context: WriteContext): Promise<ResourceSnapshot[]> {
    return this.#insertRows(
      type,
      rows.map((fields) => ({ id: randomUUID(), ...fields })),
      context,
    );
  }

  /** The entity's own insert (property names, types, defaults) returning the rows, then each row's first event. */
  async #insertRows(
    type: string,
    values: Array<{ id: string } & Record<string, Json>>,
    context: WriteContext,
  ): Promise<ResourceSnapshot[]> {
    const table = this.table(type);
    const inserted = new Map<string, ResourceSnapshot>();
    // Every column bounds the bind parameters a row takes.
    for (const batch of statementBatches(values, table.columns.size)) {
      const insert = this.builder.createQueryBuilder(table.entityName).insert(batch).returning('*');
      const { sql: text, bindings } = insert.getKnexQuery().toSQL();
      const returned: unknown = await sql(this.em, text, [...bindings]);
      if (!Array.isArray(returned)) throw new Error(`Inserted ${type} rows are not readable`);
      for (const row of returned) {
        if (!isRow(row)) throw new Error(`An inserted ${type} row is not readable`);
        const snapshot = toSnapshot(table, row);
        inserted.set(snapshot.id, snapshot);
      }
    }
    const snapshots = values.map(({ id }) => {
      const snapshot = inserted.get(id);
      if (!snapshot) throw new Error(`Inserted ${type} ${id} is not readable`);
      return snapshot;
    });
    for (const snapshot of snapshots)
      this.writeEvent(snapshot, EVENT_NAMES.stateChanged, null, snapshot.state, context);
    return snapshots;
  }

  /**
   * Applies a patch with a compare-and-set on the version the caller read, writing one event per
   * state transition. Returns the new snapshot, or null when the patch deleted the row.
   */
  async applyPatch(
    current: ResourceSnapshot,
    patch: ResourcePatch,
    context: WriteContext,
  ): Promise<ResourceSnapshot | null> {
    const table = this.table(current.type);
    if (patch.delete) {
      const deleted = await sql(this.em, 'delete from ?? where id = ? and version = ? returning id', [
        table.tableName,
        current.id,
        current.version,
      ]);
      if (deleted.length === 0) throw new ConcurrentUpdateError(current.type, current.id);
      this.writeEvent({ ...current, version: current.version + 1 }, EVENT_NAMES.deleted, current.state, null, context);
      return null;
    }
    const changes = patchChanges(current.state, patch);
    if (changes.actionDetails !== undefined) changes.actionDetails = JSON.stringify(changes.actionDetails);
    const assignments: string[] = ['version = version + 1', 'modified_at = now()'];
    const values: unknown[] = [table.tableName];
    for (const [property, value] of Object.entries(changes)) {
      const column = table.columns.get(property);
      if (!column || property === 'id' || property === 'version')
        throw new TypeError(`Unknown ${current.type} property ${property}`);
      assignments.push(`${quoteIdent(column)} = ?`);
      values.push(value);
    }
    values.push(current.id, current.version);
    const rows = await sql(
      this.em,
      `update ?? set ${assignments.join(', ')} where id = ? and version = ? returning *`,
      values,
    );
    const row = rows[0];
    if (!row) throw new ConcurrentUpdateError(current.type, current.id);
    const next = toSnapshot(table, row);
    if (patch.transition || patch.restore)
      this.writeEvent(next, EVENT_NAMES.stateChanged, current.state, next.state, context);
    return next;
  }

  private writeEvent(
    resource: ResourceSnapshot,
    event: string,
    from: string | null,
    to: string | null,
    context: WriteContext,
  ): void {
    this.outbox.add(resourceEvent(resource, event, from, to, context));
  }
}

/** The column of the owner field, or null when the type has no such domain property. */
function ownerColumn(table: ResourceTable, owned: OwnerFilter): string | null {
  return table.domainProperties.includes(owned.field) ? (table.columns.get(owned.field) ?? null) : null;
}

/** A resource row (as `select *` answers it) as its snapshot. */
export function toSnapshot(table: ResourceTable, row: Record<string, unknown>): ResourceSnapshot {
  const column = (property: string): unknown => row[table.columns.get(property) ?? property];
  const state = String(column('state'));
  if (!isResourceState(state))
    throw new TypeError(`Row ${table.type}:${String(column('id'))} has unknown state ${state}`);
  const fields: Record<string, Json> = {};
  for (const property of table.domainProperties) fields[property] = toJson(column(property));
  return {
    type: table.type,
    id: String(column('id')),
    state,
    version: Number(column('version')),
    errorMessage: String((column('errorMessage') as string | null) ?? ''),
    errorTraceback: String((column('errorTraceback') as string | null) ?? ''),
    action: String((column('action') as string | null) ?? ''),
    actionDetails: (column('actionDetails') ?? {}) as JsonObject,
    runtimeState: String((column('runtimeState') as string | null) ?? ''),
    backendId: (column('backendId') as string | null) ?? null,
    modifiedAt: toJson(column('modifiedAt')) as string,
    fields,
  };
}

function toJson(value: unknown): Json {
  if (value instanceof Date) return value.toISOString();
  if (value === undefined) return null;
  return value as Json;
}

function isRow(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
