import type { EntityManager } from '@mikro-orm/postgresql';
import { sql } from './sql.ts';

export type IdempotencyLookup = { kind: 'new' } | { kind: 'replay'; reply: string } | { kind: 'conflict' };

/** Idempotency-Key rows: claimed in the command's transaction, so concurrent duplicates wait on the key. */
export class IdempotencyStore {
  constructor(private readonly em: EntityManager) {}

  /**
   * Inserts the key (blocking on a concurrent insert of the same key until that transaction ends),
   * or reports the stored reply or a conflict.
   */
  async begin(subject: string, key: string, requestHash: string): Promise<IdempotencyLookup> {
    const inserted = await sql(
      this.em,
      `insert into jetcel_idempotency_key (subject, key, request_hash, reply) values (?, ?, ?, '')
       on conflict (subject, key) do nothing returning key`,
      [subject, key, requestHash],
    );
    if (inserted.length === 1) return { kind: 'new' };
    const rows = await sql<{ request_hash: string; reply: string }>(
      this.em,
      'select request_hash, reply from jetcel_idempotency_key where subject = ? and key = ?',
      [subject, key],
    );
    const row = rows[0];
    if (!row) return { kind: 'new' };
    return row.request_hash === requestHash ? { kind: 'replay', reply: row.reply } : { kind: 'conflict' };
  }

  async complete(subject: string, key: string, reply: string): Promise<void> {
    await sql(this.em, 'update jetcel_idempotency_key set reply = ? where subject = ? and key = ?', [
      reply,
      subject,
      key,
    ]);
  }
}
