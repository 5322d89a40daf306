import type { EntityManager } from '@mikro-orm/postgresql';
import type { EntitySchema } from '@mikro-orm/core';
import { COMMON_RESOURCE_PROPERTIES } from './entities/resource-entity.ts';
import { resourceTableComment } from './resource-table.ts';

/** How one resource type maps onto its table. */
export interface ResourceTable {
  type: string;
  entityName: string;
  tableName: string;
  /** property name → column name, for every property */
  columns: Map<string, string>;
  /** property names beyond the common resource columns */
  domainProperties: string[];
}

const RESOURCE_TAG = resourceTableComment('');

/** An entity's table, and its resource type when it is a resource entity: known before any database is reached. */
export function entityTable(schema: EntitySchema): {
  entityName: string;
  tableName: string;
  resourceType: string | null;
} {
  const { comment, className, tableName } = schema.meta;
  const resourceType =
    typeof comment === 'string' && comment.startsWith(RESOURCE_TAG) ? comment.slice(RESOURCE_TAG.length) : null;
  return { entityName: className, tableName: tableName ?? className, resourceType };
}

/** Finds the resource entities among the registered ones (they carry a tag in their comment). */
export function discoverResourceTables(em: EntityManager, entities: EntitySchema[]): Map<string, ResourceTable> {
  const tables = new Map<string, ResourceTable>();
  for (const schema of entities) {
    const comment = schema.meta.comment;
    if (typeof comment !== 'string' || !comment.startsWith(RESOURCE_TAG)) continue;
    const meta = em.getMetadata().get(schema.meta.className);
    const columns = new Map<string, string>();
    for (const [name, prop] of Object.entries(meta.properties)) {
      const field = prop.fieldNames?.[0];
      if (field) columns.set(name, field);
    }
    const type = comment.slice(RESOURCE_TAG.length);
    tables.set(type, {
      type,
      entityName: meta.className,
      tableName: meta.tableName,
      columns,
      domainProperties: [...columns.keys()].filter((name) => !COMMON_RESOURCE_PROPERTIES.includes(name)),
    });
  }
  return tables;
}
