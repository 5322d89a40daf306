// The closed set of error codes that cross a boundary (command replies, dead letters, step errors).

export const ERROR_CODES = {
  VALIDATION_FAILED: { retryable: false },
  PAYLOAD_TOO_LARGE: { retryable: false },
  NOT_FOUND: { retryable: false },
  UNKNOWN_SUBJECT: { retryable: false },
  INVALID_STATE: { retryable: false },
  IDEMPOTENCY_CONFLICT: { retryable: false },
  UNAUTHENTICATED: { retryable: false },
  FORBIDDEN: { retryable: false },
  UNAVAILABLE: { retryable: true },
  INTERNAL: { retryable: true },
} as const satisfies Record<string, { retryable: boolean }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export function isErrorCode(value: string): value is ErrorCode {
  return Object.hasOwn(ERROR_CODES, value);
}

export function isRetryableCode(code: ErrorCode): boolean {
  return ERROR_CODES[code].retryable;
}
