import { randomUUID } from 'node:crypto';
import type { JetStreamClient } from '@nats-io/jetstream';
import type pg from 'pg';
import { RAW_CHAIN, type RawChainMessage } from './names.ts';

export interface QueuedStep {
  outboxId: string;
  payload: string;
}

/** Inside the caller's transaction: the step row and its outbox row (the publish intent). */
export async function queueRawStep(client: pg.PoolClient, exec: string, n: number): Promise<QueuedStep> {
  const step = randomUUID();
  const outboxId = randomUUID();
  const payload = JSON.stringify({ exec, step, n } satisfies RawChainMessage);
  await client.query('insert into raw_step (id, exec_id, n) values ($1, $2, $3)', [step, exec, n]);
  await client.query('insert into raw_outbox (id, subject, payload) values ($1, $2, $3)', [
    outboxId,
    RAW_CHAIN.subject,
    payload,
  ]);
  return { outboxId, payload };
}

/** After COMMIT: publish from memory with the row id as message id, then mark the row published. */
export async function publishRawStep(pool: pg.Pool, js: JetStreamClient, queued: QueuedStep): Promise<void> {
  await js.publish(RAW_CHAIN.subject, queued.payload, { msgID: queued.outboxId });
  await pool.query('update raw_outbox set published_at = now() where id = $1', [queued.outboxId]);
}

/** One transaction on a pooled client; rolls back on error. */
export async function inTransaction<T>(
  pool: pg.Pool,
  fn: (client: pg.PoolClient) => Promise<T>,
  options: { relaxed?: boolean } = {},
): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('begin');
    if (options.relaxed) await client.query('set local synchronous_commit = off');
    const result = await fn(client);
    await client.query('commit');
    return result;
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/** The driver's "request": one execution row and its first step, committed, then published. */
export async function submitRawExecution(pool: pg.Pool, js: JetStreamClient): Promise<void> {
  const exec = randomUUID();
  const queued = await inTransaction(pool, async (client) => {
    await client.query('insert into raw_exec (id) values ($1)', [exec]);
    return queueRawStep(client, exec, 1);
  });
  await publishRawStep(pool, js, queued);
}
