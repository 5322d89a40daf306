import { z } from 'zod';
import { ERROR_CODES, type ErrorCode } from './errors.ts';

/** Error body of a reply: a stable code, a human message, whether a retry may help, and details. */
export interface ReplyError {
  code: ErrorCode;
  message: string;
  retryable: boolean;
  details?: unknown;
}

/** The reply envelope of every command and query. */
export type Reply<T = unknown> = { ok: true; data: T } | { ok: false; error: ReplyError };

const codeSchema = z.enum(Object.keys(ERROR_CODES) as [ErrorCode, ...ErrorCode[]]);

export const replySchema = z.union([
  z.object({ ok: z.literal(true), data: z.unknown() }),
  z.object({
    ok: z.literal(false),
    error: z.object({
      code: codeSchema,
      message: z.string(),
      retryable: z.boolean(),
      details: z.unknown().optional(),
    }),
  }),
]);

export const okReply = <T>(data: T): Reply<T> => ({ ok: true, data });
