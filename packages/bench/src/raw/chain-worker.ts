// Raw PostgreSQL-outbox chain (scenario 2's floor): jetcel's commits per step in plain SQL, over JetStream.
import { randomUUID } from 'node:crypto';
import type { JsMsg } from '@nats-io/jetstream';
import { serveDriver } from '../ipc.ts';
import { Recorder } from '../recorder.ts';
import { inTransaction, publishRawStep, queueRawStep, type QueuedStep } from './chain.ts';
import { rawNats, rawPool } from './connect.ts';
import { RAW_CHAIN, RAW_CHAIN_STEPS, type RawChainMessage } from './names.ts';

const concurrency = Number(process.env.WORKER_CONCURRENCY ?? 50);
const recorder = new Recorder();
const pool = rawPool(process.env.DATABASE_URL ?? '');
const { nc, js } = await rawNats(process.env.NATS_URL ?? '');
const consumer = await js.consumers.get(RAW_CHAIN.stream, RAW_CHAIN.durable);

async function handle(m: JsMsg): Promise<void> {
  const message = m.json<RawChainMessage>();
  const token = randomUUID();
  // 1. Claim (synchronous_commit off, as jetcel's claims): a done or live-claimed step is skipped.
  const claimed = await inTransaction(
    pool,
    async (client) =>
      (
        await client.query(
          `update raw_step set status = 'running', claim = $2, claimed_until = now() + interval '30 seconds'
           where id = $1 and status = 'queued'`,
          [message.step, token],
        )
      ).rowCount === 1,
    { relaxed: true },
  );
  if (!claimed) {
    m.ack();
    return;
  }
  // 2. The task (a no-op), then 3. the result and what comes next, guarded by the claim, durable.
  const next = await inTransaction(pool, async (client): Promise<QueuedStep | null> => {
    const done = await client.query(
      `update raw_step set status = 'succeeded', result = '{}' where id = $1 and claim = $2`,
      [message.step, token],
    );
    if (done.rowCount !== 1) throw new Error('claim lost');
    if (message.n < RAW_CHAIN_STEPS) return queueRawStep(client, message.exec, message.n + 1);
    await client.query(`update raw_exec set state = 'OK', finished_at = now() where id = $1`, [message.exec]);
    return null;
  });
  // 4. Publish after COMMIT, mark the outbox row, ack.
  if (next) await publishRawStep(pool, js, next);
  else recorder.add({ latencyMs: 0 });
  m.ack();
}

const messages = await consumer.consume({ max_messages: concurrency });
void (async () => {
  const running = new Set<Promise<void>>();
  for await (const m of messages) {
    const job = handle(m).catch((error: unknown) => {
      process.stderr.write(`raw chain step failed: ${String(error)}\n`);
      m.nak(100);
    });
    running.add(job);
    void job.finally(() => running.delete(job));
    if (running.size >= concurrency) await Promise.race(running);
  }
})();
serveDriver(recorder, {}, async () => {
  await messages.close();
  await nc.drain();
  await pool.end();
});
