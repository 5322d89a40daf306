import type pg from 'pg';
import { ORM_TYPES } from './relaxed-pool.ts';
import type { SqlRunner } from './sql.ts';

/** The part of a `pg` connection a lean transaction uses. */
export type LeanClient = Pick<pg.ClientBase, 'query'>;

/** Formats a statement with `?` values and `??` identifiers inlined, as the entity manager sends it. */
export type FormatSql = (text: string, params: unknown[]) => string;

/**
 * A transaction on one plain connection, with no ORM transaction around it: BEGIN rides in the
 * first statement's round trip, and each statement goes as the entity manager would send it
 * (formatted client-side, rows typed as its connection types them).
 */
export class LeanConnection implements SqlRunner {
  #begun = false;

  /** `prelude`: statements run right after BEGIN, in the same round trip (e.g. `set local …`). */
  constructor(
    private readonly client: LeanClient,
    private readonly format: FormatSql,
    private readonly prelude: string[] = [],
  ) {}

  async execute(text: string, params: unknown[]): Promise<unknown> {
    const statement = this.format(text, params);
    if (this.#begun) return (await this.client.query({ text: statement, types: ORM_TYPES })).rows;
    this.#begun = true;
    const opening = ['begin', ...this.prelude, statement].join('; ');
    const results: unknown = await this.client.query({ text: opening, types: ORM_TYPES });
    // Several statements in one query: pg answers one result each.
    const last = Array.isArray(results) ? (results as pg.QueryResult[]).at(-1) : undefined;
    if (!last) throw new Error('A lean transaction statement returned no result');
    return last.rows;
  }

  /** Commits what the statements wrote (nothing to do when none ran). */
  async commit(): Promise<void> {
    if (this.#begun) await this.client.query('commit');
  }

  /** Rolls back; false when the connection could not (it is then not reused). */
  async rollback(): Promise<boolean> {
    if (!this.#begun) return true;
    try {
      await this.client.query('rollback');
      return true;
    } catch {
      return false;
    }
  }
}
