import { InvalidStateError, UnavailableError } from '@jetcel/core';

/** A compare-and-set write found the row changed by someone else. */
export class ConcurrentUpdateError extends InvalidStateError {
  constructor(what: string, id: string) {
    super(`${what} ${id} was changed concurrently; nothing was written`, { what, id });
  }
}

/** The step's claim token no longer matches: another delivery took it over. */
export class ClaimLostError extends Error {
  readonly code = 'CLAIM_LOST';
  constructor(stepId: string) {
    super(`Claim on step ${stepId} was lost; its result is discarded`);
    this.name = 'ClaimLostError';
  }
}

/** The background run's claim token no longer matches: it was taken over or re-queued. */
export class RunClaimLostError extends Error {
  readonly code = 'CLAIM_LOST';
  constructor(runId: string) {
    super(`Claim on background run ${runId} was lost; its result is discarded`);
    this.name = 'RunClaimLostError';
  }
}

const CONNECTION_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  '57P01',
  '57P03',
  '08006',
  '08001',
  '08003',
]);

/** Maps driver errors that mean "the database is not reachable" to UNAVAILABLE. */
export function toUnavailable(error: unknown): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : '';
  if (
    (typeof code === 'string' && CONNECTION_ERROR_CODES.has(code)) ||
    /Connection terminated|connect ECONNREFUSED|timeout exceeded when trying to connect/i.test(message)
  ) {
    return new UnavailableError('The database is unavailable', { cause: error });
  }
  return error;
}

/** A domain's entity manager was handed one of jetcel's own entities: those change only through jetcel. */
export class FrameworkEntityError extends Error {
  readonly code = 'FRAMEWORK_ENTITY';
  constructor(entityName: string) {
    super(`${entityName} is one of jetcel's own tables: a domain's entity manager cannot read or write it`);
    this.name = 'FrameworkEntityError';
  }
}
