import { defineEntity, p } from '@mikro-orm/core';

/** One intent to publish, written in the transaction that decided it; its id is the Nats-Msg-Id. */
export const Outbox = defineEntity({
  name: 'Outbox',
  tableName: 'jetcel_outbox',
  properties: {
    id: p.uuid().primary(),
    subject: p.string(),
    payload: p.text(),
    headers: p.json<Record<string, string>>().default('{}'),
    notBefore: p.datetime().defaultRaw('now()'),
    createdAt: p.datetime().defaultRaw('now()'),
    leaseUntil: p.datetime().nullable(),
    publishedAt: p.datetime().nullable(),
    attempts: p.integer().default(0),
    lastError: p.text().nullable(),
  },
});
