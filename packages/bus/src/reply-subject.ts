// Where a request server may answer: an inbox, never a subject the caller names. A reply is a plain
// publish, so a request carrying `tasks.regular`, `$KV.LEASES.<key>` or a JetStream API subject as
// its reply subject would otherwise make the server write there with its own rights.
import { BusError } from './errors.ts';

/** Every inbox (nats.js, the nats CLI and the other clients name theirs `_INBOX.…`). */
export const DEFAULT_REPLY_PREFIXES: readonly string[] = ['_INBOX.'];

/** Longer reply subjects are refused; real inboxes are well under 100 characters. */
export const MAX_REPLY_SUBJECT_LENGTH = 256;

/** One subject token of an inbox: what connectBus accepts in a user name, nuids and counters. */
const INBOX_TOKEN = /^[A-Za-z0-9_-]+$/;
const INBOX_ROOT = '_INBOX';

/** A configured reply prefix that is not `_INBOX` followed by plain tokens. */
export class InvalidReplyPrefixError extends BusError {
  readonly prefix: string;
  constructor(prefix: string) {
    super(
      `Invalid reply prefix "${boundedSubject(prefix)}": use _INBOX or _INBOX.<token>[.<token>…] (letters, digits, "_" and "-")`,
      { code: 'INVALID_REPLY_PREFIX' },
    );
    this.prefix = prefix;
  }
}

/**
 * A configured prefix in canonical form, ending with "." (`_INBOX.app-billing` becomes
 * `_INBOX.app-billing.`, which `_INBOX.app-billing-2.x` does not start with). Only prefixes under
 * `_INBOX` are accepted: deploy/nats/permissions.conf lets the serving user publish there only.
 */
export function replyPrefix(raw: string): string {
  const trimmed = raw.endsWith('.') ? raw.slice(0, -1) : raw;
  const [root, ...tokens] = trimmed.split('.');
  if (root !== INBOX_ROOT || !tokens.every((token) => INBOX_TOKEN.test(token))) throw new InvalidReplyPrefixError(raw);
  return `${trimmed}.`;
}

/** Parses a comma-separated prefix list (e.g. JETCEL_REPLY_PREFIXES); blank means the default. */
export function parseReplyPrefixes(raw: string | undefined): string[] {
  const parts = (raw ?? '')
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');
  return parts.length === 0 ? [...DEFAULT_REPLY_PREFIXES] : parts.map(replyPrefix);
}

/**
 * True when `reply` is an inbox under one of `prefixes` (canonical, see replyPrefix): at most
 * MAX_REPLY_SUBJECT_LENGTH characters, at least one token after the prefix, every token plain
 * (no wildcard, no empty token, no whitespace or control character).
 */
export function isInboxReply(reply: string, prefixes: readonly string[]): boolean {
  if (reply.length > MAX_REPLY_SUBJECT_LENGTH) return false;
  const prefix = prefixes.find((candidate) => reply.startsWith(candidate));
  if (prefix === undefined) return false;
  const tail = reply.slice(prefix.length);
  return tail !== '' && tail.split('.').every((token) => INBOX_TOKEN.test(token));
}

/** A subject cut to a loggable length. */
export function boundedSubject(subject: string, max = 120): string {
  return subject.length <= max ? subject : `${subject.slice(0, max)}…`;
}
