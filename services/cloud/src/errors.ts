/** A failure with an HTTP status and a stable code; http.ts turns it into `{ error: { code, message } }`. */
export class CloudError extends Error {
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = 'CloudError';
    this.status = status;
    this.code = code;
  }
}

/** Thrown by an injected 'timeout' fault: the request must never be answered. */
export class HangRequest extends Error {
  constructor(message = 'injected timeout') {
    super(message);
    this.name = 'HangRequest';
  }
}

export function notFound(kind: string, id: string): CloudError {
  return new CloudError(404, 'NOT_FOUND', `${kind} ${id} not found`);
}

export function invalidState(message: string): CloudError {
  return new CloudError(409, 'INVALID_STATE', message);
}

export function validationFailed(message: string): CloudError {
  return new CloudError(400, 'VALIDATION_FAILED', message);
}
