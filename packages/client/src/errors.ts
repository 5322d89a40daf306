import type { ErrorCode } from '@jetcel/contracts';

/**
 * Why a call failed where no reply came: nobody serves the subject, the reply did not come in time,
 * the connection failed, or the reply was not a jetcel envelope.
 */
export const TRANSPORT_ERROR_CODES = ['NO_RESPONDERS', 'TIMEOUT', 'CONNECTION', 'BAD_REPLY'] as const;
export type TransportErrorCode = (typeof TRANSPORT_ERROR_CODES)[number];

export type ClientErrorCode = ErrorCode | TransportErrorCode;

/** Every failure of a client call: `kind` 'reply' (the executor answered ok:false) or 'transport'. */
export class JetcelClientError extends Error {
  override readonly name = 'JetcelClientError';

  constructor(
    readonly kind: 'reply' | 'transport',
    readonly code: ClientErrorCode,
    message: string,
    readonly subject: string,
    readonly retryable: boolean,
    readonly details?: unknown,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  toJSON(): Record<string, unknown> {
    return {
      kind: this.kind,
      code: this.code,
      message: this.message,
      subject: this.subject,
      retryable: this.retryable,
      ...(this.details === undefined ? {} : { details: this.details }),
    };
  }
}
