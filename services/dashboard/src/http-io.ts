import type { IncomingMessage, ServerResponse } from 'node:http';
import { BadRequestError } from './errors.ts';

/** No inline script or style anywhere: the pages load /static/*.js and *.css and build the DOM with textContent. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

const MAX_BODY_BYTES = 16 * 1024;

function baseHeaders(contentType: string): Record<string, string> {
  return {
    'content-type': contentType,
    'content-security-policy': CONTENT_SECURITY_POLICY,
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    // Not no-referrer: under it Chromium sends `Origin: null` with form posts, which the origin check refuses.
    'referrer-policy': 'same-origin',
    'cache-control': 'no-store',
  };
}

export function send(
  res: ServerResponse,
  status: number,
  contentType: string,
  body: string | Buffer,
  headers: Record<string, string | string[]> = {},
): void {
  res.writeHead(status, { ...baseHeaders(contentType), ...headers });
  res.end(body);
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  send(res, status, 'application/json; charset=utf-8', JSON.stringify(body), headers);
}

export function sendHtml(
  res: ServerResponse,
  status: number,
  html: string,
  headers: Record<string, string | string[]> = {},
): void {
  send(res, status, 'text/html; charset=utf-8', html, headers);
}

export function redirect(res: ServerResponse, location: string, headers: Record<string, string | string[]> = {}): void {
  send(res, 303, 'text/plain; charset=utf-8', `See ${location}`, { location, ...headers });
}

/** Starts a server-sent-events response. */
export function startEventStream(res: ServerResponse): void {
  res.writeHead(200, { ...baseHeaders('text/event-stream; charset=utf-8'), connection: 'keep-alive' });
  res.flushHeaders();
}

export function parseCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const index = part.indexOf('=');
    if (index <= 0) continue;
    const name = part.slice(0, index).trim();
    if (!cookies.has(name)) cookies.set(name, part.slice(index + 1).trim());
  }
  return cookies;
}

export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new BadRequestError('Request body is too large', 413);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** A form post (application/x-www-form-urlencoded) or a JSON object, as string fields. */
export async function readFields(req: IncomingMessage): Promise<Map<string, string>> {
  const body = await readBody(req);
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim();
  if (type === 'application/x-www-form-urlencoded') return new Map(new URLSearchParams(body));
  if (type === 'application/json') {
    let parsed: unknown;
    try {
      parsed = body === '' ? {} : JSON.parse(body);
    } catch {
      throw new BadRequestError('Malformed JSON body');
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw new BadRequestError('The body must be a JSON object');
    return new Map(Object.entries(parsed).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
  }
  if (body === '') return new Map();
  throw new BadRequestError('Unsupported content type', 415);
}

/**
 * A state-changing request must come from the dashboard's own pages: a cross-site Origin or
 * Sec-Fetch-Site is refused (in addition to SameSite=Strict cookies and the CSRF token).
 */
export function isSameOrigin(req: IncomingMessage): boolean {
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return false;
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  const host = req.headers.host;
  if (host === undefined) return false;
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (char) => HTML_ESCAPES[char] ?? char);
}
