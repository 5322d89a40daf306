import { defineEntity, p } from '@mikro-orm/core';

export const DEAD_LETTER_REASONS = [
  'UNDECODABLE',
  'UNATTRIBUTABLE',
  'CRASH_BUDGET',
  'UNKNOWN_TASK',
  'UNPUBLISHABLE',
] as const;
export type DeadLetterReason = (typeof DEAD_LETTER_REASONS)[number];

/** A message jetcel cannot or must not run, kept with its reason and payload for an operator. */
export const DeadLetter = defineEntity({
  name: 'DeadLetter',
  tableName: 'jetcel_dead_letter',
  properties: {
    id: p.uuid().primary(),
    reason: p.string().length(32),
    detail: p.text().default(''),
    subject: p.string(),
    payload: p.text(),
    /** 'utf8', or 'base64' for bytes that are not text. */
    payloadEncoding: p.string().length(8).default('utf8'),
    headers: p.json<Record<string, string>>().default('{}'),
    executionId: p.uuid().nullable(),
    stepId: p.uuid().nullable(),
    deliveryCount: p.integer().default(1),
    createdAt: p.datetime().defaultRaw('now()'),
    redrivenAt: p.datetime().nullable(),
  },
});
