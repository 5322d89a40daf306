import { z } from 'zod';
import { isRetryableCode, type Reply } from '@jetcel/contracts';
import { JetcelError, type Logger } from '@jetcel/core';

/** The one place where an error thrown by a command becomes a reply (and is logged if unexpected). */
export function errorReply(error: unknown, log: Logger): Reply<never> {
  if (error instanceof JetcelError) {
    return {
      ok: false,
      error: {
        code: error.code,
        message: error.message,
        retryable: isRetryableCode(error.code),
        ...(error.details === undefined ? {} : { details: error.details }),
      },
    };
  }
  if (error instanceof z.ZodError) {
    return {
      ok: false,
      error: {
        code: 'VALIDATION_FAILED',
        message: z.prettifyError(error),
        retryable: false,
        details: error.issues.map((issue) => ({
          path: issue.path.join('.'),
          message: issue.message,
          code: issue.code,
        })),
      },
    };
  }
  log.error('command failed unexpectedly', { error });
  return { ok: false, error: { code: 'INTERNAL', message: 'Internal error', retryable: true } };
}
