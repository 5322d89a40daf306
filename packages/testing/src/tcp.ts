import { connect } from 'node:net';

/**
 * Opens a TCP connection to host:port and resolves with the first line the
 * peer sends (without the trailing CRLF), e.g. a NATS server's `INFO {...}`.
 * Rejects if the connection fails, closes, or no line arrives within `timeoutMs`.
 */
export function readFirstLine(host: string, port: number, timeoutMs = 2_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    let buffer = '';
    const finish = (error: Error | undefined, line?: string): void => {
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve(line ?? '');
    };
    const timer = setTimeout(() => finish(new Error(`no line from ${host}:${port} within ${timeoutMs} ms`)), timeoutMs);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      const end = buffer.indexOf('\n');
      if (end >= 0) finish(undefined, buffer.slice(0, end).replace(/\r$/, ''));
    });
    socket.once('error', (error) => finish(error));
    socket.once('close', () => finish(new Error(`${host}:${port} closed the connection before sending a line`)));
  });
}
