import { sql, type SqlRunner } from './sql.ts';

export type IdempotencyLookup = { kind: 'new' } | { kind: 'replay'; reply: string } | { kind: 'conflict' };

/**
 * Idempotency-Key rows, one per (actor, subject, key): claimed in the command's transaction, so
 * concurrent duplicates wait on the key. Another actor's key of the same name is another row.
 */
export class IdempotencyStore {
  constructor(private readonly em: SqlRunner) {}

  /**
   * Inserts the key (blocking on a concurrent insert of the same key until that transaction ends),
   * or reports the stored reply or a conflict.
   */
  async begin(actor: string, subject: string, key: string, requestHash: string): Promise<IdempotencyLookup> {
    const inserted = await sql(
      this.em,
      `insert into jetcel_idempotency_key (actor, subject, key, request_hash, reply) values (?, ?, ?, ?, '')
       on conflict (actor, subject, key) do nothing returning key`,
      [actor, subject, key, requestHash],
    );
    if (inserted.length === 1) return { kind: 'new' };
    const rows = await sql<{ request_hash: string; reply: string }>(
      this.em,
      'select request_hash, reply from jetcel_idempotency_key where actor = ? and subject = ? and key = ?',
      [actor, subject, key],
    );
    const row = rows[0];
    if (!row) return { kind: 'new' };
    return row.request_hash === requestHash ? { kind: 'replay', reply: row.reply } : { kind: 'conflict' };
  }

  async complete(actor: string, subject: string, key: string, reply: string): Promise<void> {
    await sql(this.em, 'update jetcel_idempotency_key set reply = ? where actor = ? and subject = ? and key = ?', [
      reply,
      actor,
      subject,
      key,
    ]);
  }
}
