// What nats.js keeps private about a received message: the size of its header block.
import type { Msg } from '@nats-io/transport-node';

/** The fields of nats.js 3.x MsgImpl read here (not part of its typed API; pinned by a test). */
interface MsgInternals {
  _msg?: { hdr?: number };
  _rdata?: Uint8Array;
}

/**
 * Bytes of a message's header block, without parsing it (nats.js parses lazily, on first access to
 * `headers`). 0 when the message has none.
 */
export function headerBytes(msg: Msg): number {
  const hdr = (msg as unknown as MsgInternals)._msg?.hdr;
  return typeof hdr === 'number' && hdr > 0 ? hdr : 0;
}

/** Header block and body together: what a size limit on a request must measure. */
export function messageBytes(msg: Msg): number {
  return headerBytes(msg) + msg.data.length;
}

/** The raw header block (`NATS/1.0\r\nName: value\r\n…`), or undefined when the message has none. */
export function rawHeaderBlock(msg: Msg): Uint8Array | undefined {
  const size = headerBytes(msg);
  const data = (msg as unknown as MsgInternals)._rdata;
  return size > 0 && data instanceof Uint8Array ? data.subarray(0, size) : undefined;
}
