// Conversions between plain header records (jetcel's API) and nats.js MsgHdrs.
import { headers as createHeaders, type MsgHdrs } from '@nats-io/transport-node';

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
