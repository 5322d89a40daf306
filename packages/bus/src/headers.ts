// Conversions between plain header records (jetcel's API) and nats.js MsgHdrs.
import { headers as createHeaders, type Msg, type MsgHdrs } from '@nats-io/transport-node';
import { rawHeaderBlock } from './raw-message.ts';

/** MsgHdrs from a plain record, or undefined when there is nothing to send. */
export function toMsgHdrs(record: Record<string, string> | undefined): MsgHdrs | undefined {
  if (record === undefined) return undefined;
  const entries = Object.entries(record);
  if (entries.length === 0) return undefined;
  const hdrs = createHeaders();
  for (const [key, value] of entries) hdrs.set(key, value);
  return hdrs;
}

/** A plain record from MsgHdrs; a header sent several times keeps its last value. */
export function fromMsgHdrs(hdrs: MsgHdrs | undefined): Record<string, string> {
  const record: Record<string, string> = {};
  if (hdrs === undefined) return record;
  for (const key of hdrs.keys()) record[key] = hdrs.last(key);
  return record;
}

/** Marks a message whose header block could not be parsed (hostile or broken input). */
export const UNPARSABLE_HEADERS = 'Jetcel-Unparsable-Headers';

/**
 * Headers of a received message, parsed defensively: nats.js parses them lazily and throws on a
 * malformed block, which must not break a consumer or leave a request unanswered.
 */
export function safeHeaders(read: () => MsgHdrs | undefined): Record<string, string> {
  try {
    return fromMsgHdrs(read());
  } catch {
    return { [UNPARSABLE_HEADERS]: 'true' };
  }
}

/**
 * A header block parsed the way nats.js parses one (`Name: value` lines, the value trimmed, the
 * last value of a name kept) but without its check on names: the NATS server accepts names such
 * as `Bad Key` or `clé`, which nats.js then refuses to parse at all.
 */
export function parseHeaderBlock(block: Uint8Array): Record<string, string> {
  const record: Record<string, string> = {};
  const lines = UTF8.decode(block).split('\r\n');
  // the first line is the status line (`NATS/1.0`)
  for (let index = 1; index < lines.length; index++) {
    const line = lines[index] ?? '';
    const colon = line.indexOf(':');
    if (colon > 0) record[line.slice(0, colon)] = line.slice(colon + 1).trim();
  }
  return record;
}

const UTF8 = new TextDecoder();

/**
 * The headers of a core NATS message, decoded once, straight from the raw block into a record (no
 * nats.js `MsgHdrs` on the way), so one odd name does not lose the others (an Idempotency-Key, a
 * token). Only when the raw block is out of reach (a nats.js without the fields read here) does
 * nats.js parse them.
 */
export function messageHeaders(msg: Msg): Record<string, string> {
  const block = rawHeaderBlock(msg);
  if (block) return parseHeaderBlock(block);
  return safeHeaders(() => msg.headers);
}
