import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '@jetcel/core';
import { handleApi, httpStatus } from './api-routes.ts';
import type { DashboardConfig } from './config.ts';
import { BadRequestError } from './errors.ts';
import { isSameOrigin, parseCookies, readFields, redirect, send, sendHtml, sendJson } from './http-io.ts';
import type { JetcelApi } from './jetcel.ts';
import { LiveHub } from './live.ts';
import { LoginLimiter } from './login-limiter.ts';
import { appPage, loginPage } from './pages.ts';
import { csrfTokenMatches, SessionStore, type Session } from './sessions.ts';
import { loadStaticFiles, type StaticFile } from './static-files.ts';
import { isOutdatedHash, hashPassword } from './password.ts';
import { authenticate, type DashboardUser } from './users.ts';

export const SESSION_COOKIE = 'jetcel_session';
/** What a browser may fetch without a session: the login form and its stylesheet. */
const PUBLIC_STATIC = new Set(['/static/login.css']);

export interface RunningDashboard {
  readonly port: number;
  readonly url: string;
  readonly sessions: SessionStore;
  /** The users as logged in against: an outdated hash is replaced here at its user's next login. */
  readonly users: ReadonlyMap<string, DashboardUser>;
  close(): Promise<void>;
}

interface Context {
  readonly config: DashboardConfig;
  readonly api: JetcelApi;
  readonly logger: Logger;
  readonly sessions: SessionStore;
  readonly live: LiveHub;
  readonly files: ReadonlyMap<string, StaticFile>;
  readonly users: Map<string, DashboardUser>;
  readonly limiter: LoginLimiter;
}

export async function startDashboard(options: {
  config: DashboardConfig;
  api: JetcelApi;
  logger: Logger;
  /** How long the live stream trusts a "may read" answer (tests shorten it). */
  readableTtlMs?: number;
}): Promise<RunningDashboard> {
  const { config } = options;
  const sessions = new SessionStore({ idleMs: config.sessionIdleMs, maxMs: config.sessionMaxMs });
  const context: Context = {
    ...options,
    sessions,
    live: new LiveHub(options.api, sessions, config.refreshMs, options.readableTtlMs),
    files: await loadStaticFiles(),
    users: new Map(config.users),
    limiter: new LoginLimiter(config.loginLimits),
  };
  const sweeper = setInterval(() => sessions.sweep(), 60_000);
  sweeper.unref();
  const server = createServer((req, res) => {
    handle(context, req, res).catch((err: unknown) => fail(context, res, err));
  });
  await listen(server, config.host, config.port);
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`,
    sessions,
    users: context.users,
    async close() {
      clearInterval(sweeper);
      context.live.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function fail(context: Context, res: ServerResponse, err: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (err instanceof BadRequestError) {
    sendJson(res, err.status, {
      ok: false,
      error: { code: 'VALIDATION_FAILED', message: err.message, retryable: false },
    });
    return;
  }
  context.logger.error('request failed', { error: err });
  sendJson(res, 500, { ok: false, error: { code: 'INTERNAL', message: 'internal error', retryable: true } });
}

function sessionCookie(context: Context, value: string, maxAgeSeconds: number): string {
  const secure = context.config.secureCookie ? '; Secure' : '';
  return `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}${secure}`;
}

async function handle(context: Context, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://dashboard.invalid');
  const method = req.method ?? 'GET';
  const cookieId = parseCookies(req.headers.cookie).get(SESSION_COOKIE);

  if (url.pathname === '/login') return handleLogin(context, req, res, method, cookieId);
  if (method === 'GET' && PUBLIC_STATIC.has(url.pathname)) return serveStatic(context, res, url.pathname);

  const session = context.sessions.get(cookieId);
  if (!session) return refuse(res, method, url);

  if (method === 'POST') {
    if (!isSameOrigin(req)) return forbidden(res, 'Cross-site request refused');
    const fields = await readFields(req);
    const token = headerValue(req, 'x-csrf-token') ?? fields.get('_csrf');
    if (!csrfTokenMatches(session, token)) return forbidden(res, 'Missing or wrong CSRF token');
    if (url.pathname === '/logout') {
      context.sessions.end(session.id);
      context.logger.info('logout', { user: session.user.username });
      return redirect(res, '/login', { 'set-cookie': sessionCookie(context, '', 0) });
    }
    return serveApi(context, res, method, url, session, fields);
  }
  if (method !== 'GET' && method !== 'HEAD') return send(res, 405, 'text/plain; charset=utf-8', 'Method not allowed');
  if (url.pathname === '/') {
    const user = session.user;
    return sendHtml(res, 200, appPage({ username: user.username, roles: user.roles, csrfToken: session.csrfToken }));
  }
  if (url.pathname === '/events') return context.live.attach(res, session);
  if (url.pathname.startsWith('/static/')) return serveStatic(context, res, url.pathname);
  if (url.pathname === '/api/me')
    return sendJson(res, 200, { ok: true, data: { username: session.user.username, roles: session.user.roles } });
  return serveApi(context, res, method, url, session, new Map());
}

async function serveApi(
  context: Context,
  res: ServerResponse,
  method: string,
  url: URL,
  session: Session,
  fields: ReadonlyMap<string, string>,
): Promise<void> {
  if (!url.pathname.startsWith('/api/')) return send(res, 404, 'text/plain; charset=utf-8', 'Not found');
  const caller = { actor: session.user.username, roles: session.user.roles };
  const reply = await handleApi(context.api, { method, url, caller, fields });
  if (reply === null)
    return sendJson(res, 404, { ok: false, error: { code: 'NOT_FOUND', message: 'No such API', retryable: false } });
  if (method === 'POST')
    context.logger.info('dashboard command', {
      user: session.user.username,
      path: url.pathname,
      ok: reply.ok,
      ...(reply.ok ? {} : { code: reply.error.code }),
    });
  sendJson(res, httpStatus(reply), reply);
}

/** No session: pages redirect to the login form, everything else (API, stream, assets, posts) is 401. */
function refuse(res: ServerResponse, method: string, url: URL): void {
  if (method === 'GET' && url.pathname === '/') return redirect(res, '/login');
  sendJson(res, 401, { ok: false, error: { code: 'UNAUTHENTICATED', message: 'Sign in first', retryable: false } });
}

function forbidden(res: ServerResponse, message: string): void {
  sendJson(res, 403, { ok: false, error: { code: 'FORBIDDEN', message, retryable: false } });
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function serveStatic(context: Context, res: ServerResponse, path: string): void {
  const file = context.files.get(path);
  if (!file) return send(res, 404, 'text/plain; charset=utf-8', 'Not found');
  send(res, 200, file.contentType, file.body);
}

/**
 * The configured hash is older than today's cost: the in-memory user gets a new hash (later logins
 * verify against it), but JETCEL_DASHBOARD_USERS still holds the old one until an operator replaces it.
 */
async function rehash(context: Context, user: DashboardUser, password: string): Promise<void> {
  context.users.set(user.username, { ...user, passwordHash: await hashPassword(password) });
  context.logger.warn('outdated password hash re-hashed in memory; replace it in JETCEL_DASHBOARD_USERS', {
    user: user.username,
    cost: user.passwordHash.split('.').slice(1, 4).join('.'),
    howTo: 'pnpm --filter @jetcel/dashboard-service hash-password',
  });
}

async function handleLogin(
  context: Context,
  req: IncomingMessage,
  res: ServerResponse,
  method: string,
  cookieId: string | undefined,
): Promise<void> {
  if (method === 'GET' || method === 'HEAD') {
    if (context.sessions.get(cookieId)) return redirect(res, '/');
    return sendHtml(res, 200, loginPage());
  }
  if (method !== 'POST') return send(res, 405, 'text/plain; charset=utf-8', 'Method not allowed');
  if (!isSameOrigin(req)) return forbidden(res, 'Cross-site request refused');
  const fields = await readFields(req);
  const username = (fields.get('username') ?? '').slice(0, 128);
  const ip = req.socket.remoteAddress ?? 'unknown';
  const retryAfter = context.limiter.begin(username, ip);
  if (retryAfter > 0) {
    context.logger.warn('login refused: too many failures', { user: username.slice(0, 64), ip, retryAfter });
    const error = `Too many failed logins: try again in ${retryAfter} s`;
    return sendHtml(res, 429, loginPage({ error, username }), { 'retry-after': String(retryAfter) });
  }
  const password = fields.get('password') ?? '';
  const user = await authenticate(context.users, username, password);
  if (!user) {
    context.logger.warn('login failed', { user: username.slice(0, 64), ip });
    return sendHtml(res, 401, loginPage({ error: 'Wrong user name or password', username }));
  }
  context.limiter.succeeded(username, ip);
  if (isOutdatedHash(user.passwordHash)) await rehash(context, user, password);
  // A fresh id at every login: a session id planted before login is worth nothing after it.
  if (cookieId !== undefined) context.sessions.end(cookieId);
  const session = context.sessions.create(user);
  context.logger.info('login', { user: user.username });
  redirect(res, '/', {
    'set-cookie': sessionCookie(context, session.id, Math.floor(context.config.sessionMaxMs / 1000)),
  });
}
