import { AckPolicy, jetstreamManager, RetentionPolicy } from '@nats-io/jetstream';
import type { JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type pg from 'pg';
import { rawNats, rawPool } from './connect.ts';
import { RAW_CHAIN, RAW_CHAIN_SCHEMA, RAW_TASK } from './names.ts';

export interface RawClients {
  nc: NatsConnection;
  js: JetStreamClient;
  pool: pg.Pool;
  close(): Promise<void>;
}

/** The raw baselines' clients, tables, streams and durable consumers. */
export async function setUpRaw(natsUrl: string, databaseUrl: string): Promise<RawClients> {
  const { nc, js } = await rawNats(natsUrl);
  const pool = rawPool(databaseUrl, 16);
  for (const statement of RAW_CHAIN_SCHEMA) await pool.query(statement);
  const jsm = await jetstreamManager(nc);
  for (const spec of [RAW_TASK, RAW_CHAIN]) {
    await jsm.streams.add({ name: spec.stream, subjects: [spec.subject], retention: RetentionPolicy.Workqueue });
    await jsm.consumers.add(spec.stream, {
      durable_name: spec.durable,
      ack_policy: AckPolicy.Explicit,
      max_ack_pending: 10_000,
    });
  }
  return {
    nc,
    js,
    pool,
    async close() {
      await nc.drain().catch(() => nc.close());
      await pool.end();
    },
  };
}

/** A raw JetStream publish with a message id (the baselines' publish call). */
export const rawPublish = (js: JetStreamClient, subject: string, payload: string, msgID: string) =>
  js.publish(subject, payload, { msgID });
