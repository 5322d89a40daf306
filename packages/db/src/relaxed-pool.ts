import { createHash } from 'node:crypto';
import pg from 'pg';
import { toUnavailable } from './errors.ts';

/** `?` placeholders (as the stores write them) to PostgreSQL's `$1, $2, …`. */
export function numberedPlaceholders(text: string): string {
  let n = 0;
  return text.replace(/\?/g, () => `$${++n}`);
}

/**
 * Every jetcel connection's session settings: no JIT. jetcel's statements are short key lookups,
 * but PostgreSQL JIT-compiles any plan whose estimate passes `jit_above_cost`; the waiting-list
 * reads of a scope with 20,000 waiters (an unknown LIMIT, estimated over the whole list) spent
 * 6–34 ms compiling against 0.05–0.2 ms executing.
 */
export const SESSION_OPTIONS = '-c jit=off';

/**
 * A small pool of plain `pg` connections whose sessions run with `synchronous_commit = off`: one
 * statement, one round trip, for bookkeeping whose loss in a crash only repeats safe work (claims,
 * the relay's leases and published marks). Through MikroORM the same statement costs BEGIN, SET
 * LOCAL and COMMIT as well: four round trips on the hottest path.
 */
export class RelaxedPool {
  readonly #pool: pg.Pool;
  readonly #statements = new Map<string, { name: string; text: string }>();

  /** `durable`: sessions keep `synchronous_commit` on (a statement that must survive a crash). */
  constructor(url: string, max: number, options: { durable?: boolean } = {}) {
    this.#pool = new pg.Pool({
      connectionString: url,
      max,
      options: options.durable ? SESSION_OPTIONS : `${SESSION_OPTIONS} -c synchronous_commit=off`,
      connectionTimeoutMillis: 5000,
      idleTimeoutMillis: 30_000,
    });
    // An idle connection that dies (a restart) is replaced on the next query; nothing to do here.
    this.#pool.on('error', () => undefined);
  }

  /**
   * One statement. `prepared`: a named statement, parsed and planned once per connection; only for
   * a statement whose generic plan is right at any table size (keys looked up, never scanned): a
   * plan cached while a table was small stays until the table's statistics change.
   */
  async query<T = Record<string, unknown>>(
    text: string,
    params: unknown[] = [],
    options: { prepared?: boolean } = {},
  ): Promise<T[]> {
    try {
      const statement = options.prepared
        ? this.#prepared(text, params)
        : { text: numberedPlaceholders(text), values: params };
      const result = await this.#pool.query<T & pg.QueryResultRow>(statement);
      return result.rows;
    } catch (error) {
      throw toUnavailable(error);
    }
  }

  /**
   * One statement whose rows come as arrays, with the column names in order (names may repeat),
   * and values typed as MikroORM's connection types them (dates and intervals as PostgreSQL's text),
   * so a row reads the same here as through the stores. Always a named statement (see `query`).
   */
  async queryArrays(text: string, params: unknown[] = []): Promise<{ columns: string[]; rows: unknown[][] }> {
    try {
      const result = await this.#pool.query<unknown[]>({
        ...this.#prepared(text, params),
        rowMode: 'array',
        types: ORM_TYPES,
      });
      return { columns: result.fields.map((field) => field.name), rows: result.rows };
    } catch (error) {
      throw toUnavailable(error);
    }
  }

  /** A named statement: each connection parses and plans it once (its texts are few and fixed). */
  #prepared(text: string, values: unknown[]): { name: string; text: string; values: unknown[] } {
    let statement = this.#statements.get(text);
    if (!statement) {
      const numbered = numberedPlaceholders(text);
      statement = { name: `jetcel_${createHash('sha1').update(numbered).digest('hex').slice(0, 24)}`, text: numbered };
      this.#statements.set(text, statement);
    }
    return { ...statement, values };
  }

  async end(): Promise<void> {
    await this.#pool.end();
  }
}

// As @mikro-orm/postgresql's connection: date, timestamp, timestamptz and interval (and their arrays) stay text.
export const ORM_TYPES = new pg.TypeOverrides();
// text[]'s parser (oid 1009): an array literal to its elements' text.
const textArray = pg.types.getTypeParser(1009 as never, 'text') as (value: string) => unknown;
for (const oid of [1082, 1114, 1184, 1186]) ORM_TYPES.setTypeParser(oid, (value: string) => value);
for (const oid of [1182, 1115, 1185, 1187]) ORM_TYPES.setTypeParser(oid, textArray);
