import type pg from 'pg';
import { createTestDatabase } from '@jetcel/testing';
import { rawPool } from '../raw/connect.ts';
import { until } from '../wait.ts';

/** DBOS's system database for one run (DBOS keeps everything there): created empty, dropped at the end. */
export interface DbosDatabase {
  url: string;
  /** The driver's own connections, to read workflow outcomes. */
  pool: pg.Pool;
  /** Waits until the `n` workflows whose ids start with `tag` succeeded; returns the last one's completion (ms). */
  finished(tag: string, n: number, timeoutMs: number): Promise<number>;
  /** Per succeeded workflow of `tag`: from its status row's insert (`created_at`) to its outcome's commit (`completed_at`). */
  latencies(tag: string): Promise<number[]>;
  drop(): Promise<void>;
}

export async function createDbosDatabase(): Promise<DbosDatabase> {
  const database = await createTestDatabase({ prefix: 'bench_dbos' });
  const pool = rawPool(database.url, 2);
  const like = (tag: string): string => `${tag}-%`;
  return {
    url: database.url,
    pool,
    finished: (tag, n, timeoutMs) =>
      until(
        `${n} DBOS workflows ${tag}`,
        async () => {
          const { rows } = await pool.query<{ n: number; last: string | null }>(
            `select count(*)::int as n, max(completed_at) as last from dbos.workflow_status
             where workflow_uuid like $1 and status = 'SUCCESS'`,
            [like(tag)],
          );
          const row = rows[0];
          return row && row.n >= n && row.last !== null ? Number(row.last) : undefined;
        },
        timeoutMs,
        50,
      ),
    async latencies(tag) {
      const { rows } = await pool.query<{ ms: string }>(
        `select completed_at - created_at as ms from dbos.workflow_status
         where workflow_uuid like $1 and status = 'SUCCESS'`,
        [like(tag)],
      );
      return rows.map((row) => Number(row.ms));
    },
    async drop() {
      await pool.end();
      await database.drop();
    },
  };
}
