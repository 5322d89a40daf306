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
  /** Statements whose results nobody reads, sent ahead of the next statement or with COMMIT. */
  readonly #deferred: string[] = [];

  /** `prelude`: statements run right after BEGIN, in the same round trip (e.g. `set local …`). */
  constructor(
    private readonly client: LeanClient,
    private readonly format: FormatSql,
    private readonly prelude: string[] = [],
  ) {}

  async execute(text: string, params: unknown[]): Promise<unknown> {
    const last = (await this.#send(this.format(text, params))).at(-1);
    if (!last) throw new Error('A lean transaction statement returned no result');
    return last.rows;
  }

  defer(text: string, params: unknown[]): void {
    this.#deferred.push(this.format(text, params));
  }

  /** Commits what the statements wrote, the deferred ones sent with it (nothing to do when none ran). */
  async commit(): Promise<void> {
    if (this.#deferred.length > 0) await this.#send('commit');
    else if (this.#begun) await this.client.query('commit');
  }

  /** One query: BEGIN (and the prelude) if not yet sent, the deferred statements, then `statement`. */
  async #send(statement: string): Promise<pg.QueryResult[]> {
    const opening = this.#begun ? [] : ['begin', ...this.prelude];
    this.#begun = true;
    const statements = [...opening, ...this.#deferred.splice(0), statement];
    const results: unknown = await this.client.query({ text: statements.join('; '), types: ORM_TYPES });
    // Several statements in one query: pg answers one result each.
    return statements.length > 1 ? (results as pg.QueryResult[]) : [results as pg.QueryResult];
  }

  /** Rolls back; false when the connection could not (it is then not reused). */
  async rollback(): Promise<boolean> {
    this.#deferred.length = 0;
    if (!this.#begun) return true;
    try {
      await this.client.query('rollback');
      return true;
    } catch {
      return false;
    }
  }
}
