import type { EntityManager } from '@mikro-orm/postgresql';

/** Runs one SQL statement with `?` bindings inside the entity manager's current transaction. */
export async function sql<T = Record<string, unknown>>(
  em: EntityManager,
  text: string,
  params: unknown[] = [],
): Promise<T[]> {
  return em.execute<T[]>(text, params, 'all');
}

/** An identifier (a table or column name) quoted for PostgreSQL. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** PostgreSQL text cannot hold NUL: error texts from hostile input are made storable. */
export function storableText(value: string): string {
  return value.includes('\u0000') ? value.split('\u0000').join('\uFFFD') : value;
}
