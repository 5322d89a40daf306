import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import pg from 'pg';

/** A raw client: nats.js v3 and pg, no jetcel code in between. */
export async function rawNats(url: string): Promise<{ nc: NatsConnection; js: JetStreamClient }> {
  const nc = await connect({ servers: url.split(','), name: 'bench-raw', noAsyncTraces: true });
  return { nc, js: jetstream(nc) };
}

export const rawPool = (url: string, max = 10): pg.Pool => new pg.Pool({ connectionString: url, max });
