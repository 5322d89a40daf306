import type { JsonObject } from '@jetcel/core';
import type { ExecutorDefinition } from '@jetcel/core';
import { scheduleExecution, scheduleExecutions } from '@jetcel/runtime/internal';
import type { BenchEnv } from '../env.ts';
import { until } from '../wait.ts';

/**
 * What a command handler does: insert the resource and schedule its executor, in one transaction
 * (a lean one: it writes through the stores alone).
 */
export async function submitExecution<P extends JsonObject>(
  env: BenchEnv,
  executor: ExecutorDefinition<P>,
  params: P,
): Promise<void> {
  await env.db.leanTransaction(async (tx) => {
    const context = { executionId: null, actor: null };
    const resource = await tx.resources.insert('bench_item', { name: 'bench' }, context);
    await scheduleExecution(tx, env.progress, executor, { resource, params, actor: null });
  });
}

/** How many executions one bulk command schedules (as BullMQ's side submits with `addBulk`). */
export const BULK_SIZE = 50;

/**
 * What a bulk command handler does: `n` resources and their executions in (lean) transactions of
 * `BULK_SIZE` (the resources in one insert, the executions with their first steps in another),
 * submitted one after the other.
 */
export async function submitBulk<P extends JsonObject>(
  env: BenchEnv,
  executor: ExecutorDefinition<P>,
  params: P,
  n: number,
): Promise<void> {
  for (let done = 0; done < n; done += BULK_SIZE) {
    const count = Math.min(BULK_SIZE, n - done);
    await env.db.leanTransaction(async (tx) => {
      const context = { executionId: null, actor: null };
      const rows = Array.from({ length: count }, () => ({ name: 'bench' }));
      const resources = await tx.resources.insertMany('bench_item', rows, context);
      const inputs = resources.map((resource) => ({ resource, params, actor: null }));
      await scheduleExecutions(tx, env.progress, executor, inputs);
    });
  }
}

interface Finished {
  n: number;
  last: number | null;
}

/** Executions of `executor` created since `sinceMs` that succeeded, and when the last one finished. */
export async function finishedSince(env: BenchEnv, executor: string, sinceMs: number): Promise<Finished> {
  const { rows } = await env.raw.pool.query<{ n: number; last: number | null }>(
    `select count(*)::int as n, extract(epoch from max(finished_at)) * 1000 as last from jetcel_execution
     where executor = $1 and status = 'succeeded' and created_at >= to_timestamp($2 / 1000.0)`,
    [executor, sinceMs],
  );
  const row = rows[0];
  return { n: row?.n ?? 0, last: row?.last === null || row?.last === undefined ? null : Number(row.last) };
}

/** Waits until `n` executions of `executor` created since `sinceMs` succeeded; returns when the last finished. */
export function executionsFinished(
  env: BenchEnv,
  executor: string,
  n: number,
  sinceMs: number,
  timeoutMs: number,
): Promise<number> {
  return until(
    `${n} ${executor} executions`,
    async () => {
      const done = await finishedSince(env, executor, sinceMs);
      return done.n >= n && done.last !== null ? done.last : undefined;
    },
    timeoutMs,
    50,
  );
}

/** From the scheduling transaction's now() to the final commit transaction's now(), per execution. */
export async function latenciesSince(env: BenchEnv, executor: string, sinceMs: number): Promise<number[]> {
  const { rows } = await env.raw.pool.query<{ ms: number }>(
    `select extract(epoch from finished_at - created_at) * 1000 as ms from jetcel_execution
     where executor = $1 and status = 'succeeded' and created_at >= to_timestamp($2 / 1000.0)`,
    [executor, sinceMs],
  );
  return rows.map((row) => Number(row.ms));
}
