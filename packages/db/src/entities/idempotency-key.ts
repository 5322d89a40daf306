import { defineEntity, p } from '@mikro-orm/core';

/** An actor's Idempotency-Key for one subject, stored in the command's own transaction with its reply. */
export const IdempotencyKey = defineEntity({
  name: 'IdempotencyKey',
  tableName: 'jetcel_idempotency_key',
  properties: {
    actor: p.string().primary(),
    subject: p.string().primary(),
    key: p.string().primary(),
    requestHash: p.string(),
    reply: p.text(),
    createdAt: p.datetime().defaultRaw('now()'),
  },
});
