import { randomUUID } from 'node:crypto';
import { BadReplyError, NoRespondersError, RequestTimeoutError, requestJson, type Bus } from '@jetcel/bus';
import { COMMAND_PREFIX, HEADERS, QUERY_PREFIX, replySchema } from '@jetcel/contracts';
import { JetcelClientError } from './errors.ts';
import type { ClientOptions } from './options.ts';

export interface CallOptions {
  /** Commands only: the Idempotency-Key to send. @defaultValue a fresh UUID */
  idempotencyKey?: string;
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 10_000;

/** `cmd.…` or `query.…`; anything else is refused before it is sent. */
export function subjectKind(subject: string): 'command' | 'query' {
  const [prefix, resource, action, ...rest] = subject.split('.');
  if (!resource || !action || rest.length > 0 || /[\s*>]/.test(subject))
    throw new JetcelClientError(
      'reply',
      'VALIDATION_FAILED',
      `"${subject}" is not a command or query subject`,
      subject,
      false,
    );
  if (prefix === COMMAND_PREFIX) return 'command';
  if (prefix === QUERY_PREFIX) return 'query';
  throw new JetcelClientError(
    'reply',
    'VALIDATION_FAILED',
    `"${subject}" is neither cmd.* nor query.*`,
    subject,
    false,
  );
}

function transportError(subject: string, error: unknown): JetcelClientError {
  const cause = { cause: error };
  if (error instanceof NoRespondersError)
    return new JetcelClientError(
      'transport',
      'NO_RESPONDERS',
      `No executor serves ${subject}`,
      subject,
      true,
      undefined,
      cause,
    );
  if (error instanceof RequestTimeoutError)
    return new JetcelClientError(
      'transport',
      'TIMEOUT',
      `No reply to ${subject} in time`,
      subject,
      true,
      undefined,
      cause,
    );
  if (error instanceof BadReplyError)
    return new JetcelClientError(
      'transport',
      'BAD_REPLY',
      `The reply to ${subject} is not JSON`,
      subject,
      false,
      undefined,
      cause,
    );
  const message = error instanceof Error ? error.message : String(error);
  return new JetcelClientError('transport', 'CONNECTION', `${subject}: ${message}`, subject, true, undefined, cause);
}

/**
 * One request-reply: headers (Idempotency-Key on every command, Authorization and Actor when
 * configured), the envelope checked, `data` returned or the error thrown as JetcelClientError.
 */
export async function call(
  bus: Bus,
  options: ClientOptions,
  subject: string,
  body: unknown,
  callOptions: CallOptions = {},
): Promise<unknown> {
  const kind = subjectKind(subject);
  const headers: Record<string, string> = {};
  if (kind === 'command') headers[HEADERS.idempotencyKey] = callOptions.idempotencyKey ?? randomUUID();
  if (options.token) headers[HEADERS.authorization] = `Bearer ${options.token}`;
  if (options.actor) headers[HEADERS.actor] = options.actor;
  let raw: unknown;
  try {
    raw = await requestJson(bus, subject, body, {
      headers,
      timeoutMs: callOptions.timeoutMs ?? options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    });
  } catch (error) {
    throw transportError(subject, error);
  }
  const reply = replySchema.safeParse(raw);
  if (!reply.success)
    throw new JetcelClientError('transport', 'BAD_REPLY', `The reply to ${subject} is not an envelope`, subject, false);
  if (reply.data.ok) return reply.data.data;
  const { code, message, retryable, details } = reply.data.error;
  throw new JetcelClientError('reply', code, message, subject, retryable, details);
}
