/**
 * Where the stores run their statements: an entity manager (its transaction, or none), or a lean
 * transaction's plain connection. Either formats `?` values and `??` identifiers client-side.
 */
export interface SqlRunner {
  execute(text: string, params: unknown[], method: 'all'): Promise<unknown>;
  /** Sends the statement with the next one (or with COMMIT) instead of on its own; errors surface there. */
  defer?(text: string, params: unknown[]): void;
}

/** Runs one SQL statement with `?` bindings inside the runner's current transaction. */
export async function sql<T = Record<string, unknown>>(
  runner: SqlRunner,
  text: string,
  params: unknown[] = [],
): Promise<T[]> {
  return (await runner.execute(text, params, 'all')) as T[];
}

/**
 * Runs a statement whose result nobody reads: a runner that can (a lean transaction's) sends it in
 * the round trip of the transaction's next statement or of its COMMIT; any other runs it now.
 */
export async function sqlLater(runner: SqlRunner, text: string, params: unknown[] = []): Promise<void> {
  if (runner.defer) runner.defer(text, params);
  else await runner.execute(text, params, 'all');
}

/** An identifier (a table or column name) quoted for PostgreSQL. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** PostgreSQL text cannot hold NUL: error texts from hostile input are made storable. */
export function storableText(value: string): string {
  return value.includes('\u0000') ? value.split('\u0000').join('\uFFFD') : value;
}

/** PostgreSQL's limit of bind parameters in one statement. */
export const MAX_BIND_PARAMETERS = 65535;

/** `count` copies of one VALUES row, for a multi-row insert. */
export function valuesRows(row: string, count: number): string {
  return Array.from({ length: count }, () => row).join(', ');
}

/** The items in slices small enough for one statement each, at `paramsPerItem` bind parameters an item. */
export function statementBatches<T>(items: T[], paramsPerItem: number): T[][] {
  const size = Math.max(1, Math.floor(MAX_BIND_PARAMETERS / paramsPerItem));
  const batches: T[][] = [];
  for (let start = 0; start < items.length; start += size) batches.push(items.slice(start, start + size));
  return batches;
}
