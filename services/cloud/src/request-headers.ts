import type { IncomingMessage } from 'node:http';
import { CloudError, validationFailed } from './errors.ts';
import type { RequestContext } from './types.ts';

export const DEFAULT_FENCING_SLOT = 'default';
const MAX_KEY_LENGTH = 255;

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  const text = Array.isArray(value) ? value[0] : value;
  return text === undefined || text.trim() === '' ? undefined : text.trim();
}

function idempotencyKey(req: IncomingMessage, required: boolean): string | undefined {
  const key = header(req, 'idempotency-key');
  if (key === undefined && required) {
    throw new CloudError(400, 'IDEMPOTENCY_KEY_REQUIRED', 'the Idempotency-Key header is required');
  }
  if (key !== undefined && key.length > MAX_KEY_LENGTH) {
    throw validationFailed(`the Idempotency-Key header must be at most ${MAX_KEY_LENGTH} characters`);
  }
  return key;
}

function fencing(req: IncomingMessage): RequestContext['fencing'] {
  const token = header(req, 'fencing-token');
  if (token === undefined) return undefined;
  const value = Number(token);
  if (!/^\d+$/.test(token) || !Number.isSafeInteger(value)) {
    throw validationFailed('the Fencing-Token header must be a non-negative integer');
  }
  return { slot: header(req, 'fencing-slot') ?? DEFAULT_FENCING_SLOT, token: value };
}

/** Idempotency-Key, Fencing-Token and Fencing-Slot of a mutating request. */
export function requestContext(req: IncomingMessage, keyRequired: boolean): RequestContext {
  const context: RequestContext = {};
  const key = idempotencyKey(req, keyRequired);
  if (key !== undefined) context.idempotencyKey = key;
  const claim = fencing(req);
  if (claim !== undefined) context.fencing = claim;
  return context;
}
