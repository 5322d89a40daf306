import pg from 'pg';
import { toUnavailable } from './errors.ts';

/** `?` placeholders (as the stores write them) to PostgreSQL's `$1, $2, …`. */
export function numberedPlaceholders(text: string): string {
  let n = 0;
  return text.replace(/\?/g, () => `$${++n}`);
}

/**
 * A small pool of plain `pg` connections whose sessions run with `synchronous_commit = off`: one
 * statement, one round trip, for bookkeeping whose loss in a crash only repeats safe work (claims,
 * the relay's leases and published marks). Through MikroORM the same statement costs BEGIN, SET
 * LOCAL and COMMIT as well: four round trips on the hottest path.
 */
export class RelaxedPool {
  readonly #pool: pg.Pool;

  /** `durable`: sessions keep `synchronous_commit` on (a statement that must survive a crash). */
  constructor(url: string, max: number, options: { durable?: boolean } = {}) {
    this.#pool = new pg.Pool({
      connectionString: url,
      max,
      ...(options.durable ? {} : { options: '-c synchronous_commit=off' }),
      connectionTimeoutMillis: 5000,
      idleTimeoutMillis: 30_000,
    });
    // An idle connection that dies (a restart) is replaced on the next query; nothing to do here.
    this.#pool.on('error', () => undefined);
  }

  async query<T = Record<string, unknown>>(text: string, params: unknown[] = []): Promise<T[]> {
    try {
      const result = await this.#pool.query(numberedPlaceholders(text), params);
      return result.rows as T[];
    } catch (error) {
      throw toUnavailable(error);
    }
  }

  async end(): Promise<void> {
    await this.#pool.end();
  }
}
