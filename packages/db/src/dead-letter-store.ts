import { randomUUID } from 'node:crypto';
import type { DeadLetterReason } from './entities/dead-letter.ts';
import { toDate, toDateOrNull } from './records.ts';
import { sql, storableText, type SqlRunner } from './sql.ts';

export interface DeadLetterRecord {
  id: string;
  reason: DeadLetterReason;
  detail: string;
  subject: string;
  payload: string;
  payloadEncoding: 'utf8' | 'base64';
  headers: Record<string, string>;
  executionId: string | null;
  stepId: string | null;
  deliveryCount: number;
  createdAt: Date;
  redrivenAt: Date | null;
}

export interface NewDeadLetter {
  reason: DeadLetterReason;
  detail: string;
  subject: string;
  payload: Uint8Array;
  headers: Record<string, string>;
  executionId?: string | null;
  stepId?: string | null;
  deliveryCount: number;
}

function encodePayload(payload: Uint8Array): { text: string; encoding: 'utf8' | 'base64' } {
  const buffer = Buffer.from(payload);
  const text = buffer.toString('utf8');
  // Bytes that are not valid UTF-8 would be altered by a text column: keep them as base64.
  return Buffer.from(text, 'utf8').equals(buffer) && !text.includes('\u0000')
    ? { text, encoding: 'utf8' }
    : { text: buffer.toString('base64'), encoding: 'base64' };
}

function toRecord(row: Record<string, unknown>): DeadLetterRecord {
  return {
    id: String(row.id),
    reason: row.reason as DeadLetterReason,
    detail: String((row.detail as string | null) ?? ''),
    subject: String(row.subject),
    payload: String(row.payload),
    payloadEncoding: row.payload_encoding === 'base64' ? 'base64' : 'utf8',
    headers: (row.headers ?? {}) as Record<string, string>,
    executionId: (row.execution_id as string | null) ?? null,
    stepId: (row.step_id as string | null) ?? null,
    deliveryCount: Number(row.delivery_count),
    createdAt: toDate(row.created_at),
    redrivenAt: toDateOrNull(row.redriven_at),
  };
}

/** Dead-letter rows: committed before the message leaves the stream; re-driven by operators. */
export class DeadLetterStore {
  constructor(private readonly em: SqlRunner) {}

  async add(letter: NewDeadLetter): Promise<string> {
    const id = randomUUID();
    const { text, encoding } = encodePayload(letter.payload);
    await sql(
      this.em,
      `insert into jetcel_dead_letter (id, reason, detail, subject, payload, payload_encoding, headers, execution_id, step_id, delivery_count)
       values (?, ?, ?, ?, ?, ?, ?::jsonb, ?, ?, ?)`,
      [
        id,
        letter.reason,
        storableText(letter.detail.slice(0, 4000)),
        letter.subject,
        text,
        encoding,
        JSON.stringify(
          Object.fromEntries(
            Object.entries(letter.headers).map(([key, value]) => [storableText(key), storableText(value)]),
          ),
        ),
        letter.executionId ?? null,
        letter.stepId ?? null,
        letter.deliveryCount,
      ],
    );
    return id;
  }

  async get(id: string, options: { forUpdate?: boolean } = {}): Promise<DeadLetterRecord | null> {
    const rows = await sql(
      this.em,
      `select * from jetcel_dead_letter where id = ?${options.forUpdate ? ' for update' : ''}`,
      [id],
    );
    return rows[0] ? toRecord(rows[0]) : null;
  }

  async list(filter: { reason?: DeadLetterReason; pending?: boolean; limit?: number }): Promise<DeadLetterRecord[]> {
    const clauses: string[] = [];
    const params: unknown[] = [];
    if (filter.reason) {
      clauses.push('reason = ?');
      params.push(filter.reason);
    }
    if (filter.pending) clauses.push('redriven_at is null');
    params.push(filter.limit ?? 100);
    const rows = await sql(
      this.em,
      `select * from jetcel_dead_letter ${clauses.length ? `where ${clauses.join(' and ')}` : ''} order by created_at desc limit ?`,
      params,
    );
    return rows.map(toRecord);
  }

  async markRedriven(id: string): Promise<void> {
    await sql(this.em, 'update jetcel_dead_letter set redriven_at = now() where id = ?', [id]);
  }
}
