import type { ErrorCode } from '@jetcel/contracts';

/** Base of every error jetcel raises on purpose: a stable code, mapped once at each boundary. */
export class JetcelError extends Error {
  readonly code: ErrorCode;
  readonly details: unknown;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; details?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.details = options?.details;
  }
}

export class ValidationError extends JetcelError {
  constructor(message: string, details?: unknown) {
    super('VALIDATION_FAILED', message, { details });
  }
}

export class PayloadTooLargeError extends JetcelError {
  constructor(size: number, limit: number) {
    super('PAYLOAD_TOO_LARGE', `Payload of ${size} bytes exceeds the limit of ${limit} bytes`, {
      details: { size, limit },
    });
  }
}

export class NotFoundError extends JetcelError {
  constructor(what: string, id: string) {
    super('NOT_FOUND', `${what} ${id} was not found`, { details: { what, id } });
  }
}

export class UnknownSubjectError extends JetcelError {
  constructor(subject: string) {
    super('UNKNOWN_SUBJECT', `No handler for subject ${subject}`, { details: { subject } });
  }
}

export class InvalidStateError extends JetcelError {
  constructor(message: string, details?: unknown) {
    super('INVALID_STATE', message, { details });
  }
}

export class IdempotencyConflictError extends JetcelError {
  constructor(key: string) {
    super('IDEMPOTENCY_CONFLICT', `Idempotency-Key "${key}" was already used for a different request`, {
      details: { key },
    });
  }
}

/** A command's identity token is missing where the policy requires one, forged, malformed or expired. */
export class UnauthenticatedError extends JetcelError {
  constructor(message: string) {
    super('UNAUTHENTICATED', message);
  }
}

/** The caller is known but may not do this (the executor's `authorize` hook or the policy said no). */
export class ForbiddenError extends JetcelError {
  constructor(message: string, details?: unknown) {
    super('FORBIDDEN', message, { details });
  }
}

export class UnavailableError extends JetcelError {
  constructor(message: string, options?: { cause?: unknown; details?: unknown }) {
    super('UNAVAILABLE', message, options);
  }
}

/** The caller sent more requests than its rate allows; `details.retryAfterMs` says when one more fits. */
export class RateLimitedError extends UnavailableError {
  constructor(retryAfterMs: number) {
    super(`Too many requests; retry in ${retryAfterMs} ms`, { details: { retryAfterMs } });
  }
}

/** Errors raised by tasks. `retryable` decides between backoff and immediate failure. */
export class TaskError extends Error {
  readonly retryable: boolean;
  /** Text for the resource's error_message when it differs from the exception text. */
  readonly userMessage: string | undefined;
  constructor(message: string, options?: { retryable?: boolean; userMessage?: string; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.retryable = options?.retryable ?? false;
    this.userMessage = options?.userMessage;
  }
}

/** A backend refused or failed a call; carries the backend's own message for the user. */
export class BackendError extends TaskError {}

/** A failure worth retrying with backoff (a timeout, a 503). */
export class TransientError extends TaskError {
  constructor(message: string, options?: { userMessage?: string; cause?: unknown }) {
    super(message, { ...options, retryable: true });
  }
}

/** The resource named by a task's reference no longer exists. */
export class ResourceGoneError extends TaskError {
  constructor(ref: string) {
    super(`Resource ${ref} no longer exists; it was probably deleted`);
  }
}

/** A polling step used up its attempts. */
export class PollLimitError extends TaskError {
  constructor(task: string, polls: number) {
    super(`Task ${task} gave up after ${polls} polls`);
  }
}
