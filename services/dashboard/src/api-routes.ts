// The JSON API the page calls. Each route is one jetcel query or command, sent as the session's
// user; jetcel's reply envelope is passed through, with an HTTP status that matches its code.
import type { ErrorCode } from '@jetcel/contracts';
import type { Identity } from '@jetcel/identity';
import { BadRequestError } from './errors.ts';
import type { JetcelApi, Reply } from './jetcel.ts';

export interface ApiRequest {
  readonly method: string;
  readonly url: URL;
  readonly caller: Identity;
  /** The request's fields (POST only). */
  readonly fields: ReadonlyMap<string, string>;
}

interface Route {
  method: 'GET' | 'POST';
  path: RegExp;
  handle(api: JetcelApi, request: ApiRequest, params: string[]): Promise<Reply>;
}

const UUID = '([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})';
// One subject token of lower-case letters: never a wildcard, a dot or anything the subject could be bent with.
const RESOURCE_TYPE = /^[a-z][a-z0-9_]{0,62}$/;
const WORD = /^[A-Za-z_]{1,32}$/;

/** Resource types the resources page offers (the reference domain). */
export const RESOURCE_TYPES = ['instance', 'volume', 'project'] as const;

function optionalParam(url: URL, name: string, pattern: RegExp): string | undefined {
  const value = url.searchParams.get(name);
  if (value === null || value === '') return undefined;
  if (!pattern.test(value)) throw new BadRequestError(`Invalid ${name}`);
  return value;
}

const ROUTES: Route[] = [
  {
    method: 'GET',
    path: /^\/api\/executions$/,
    handle: (api, { caller, url }) => {
      const status = optionalParam(url, 'status', WORD);
      const resourceType = optionalParam(url, 'resourceType', RESOURCE_TYPE);
      return api.listExecutions(caller, {
        ...(status ? { status } : {}),
        ...(resourceType ? { resourceType } : {}),
        limit: 100,
      });
    },
  },
  {
    method: 'GET',
    path: new RegExp(`^/api/executions/${UUID}$`),
    handle: (api, { caller }, [id = '']) => api.getExecution(caller, id),
  },
  {
    method: 'POST',
    path: new RegExp(`^/api/executions/${UUID}/cancel$`),
    handle: (api, { caller }, [id = '']) => api.cancelExecution(caller, id),
  },
  {
    method: 'GET',
    path: /^\/api\/resources$/,
    handle: (api, { caller, url }) => {
      const type = optionalParam(url, 'type', RESOURCE_TYPE);
      const state = optionalParam(url, 'state', WORD);
      return api.listResources(caller, { ...(type ? { type } : {}), ...(state ? { state } : {}) });
    },
  },
  {
    method: 'POST',
    path: /^\/api\/instances$/,
    handle: (api, { caller, fields }) => {
      const name = fields.get('name')?.trim() ?? '';
      if (name === '' || name.length > 255)
        throw new BadRequestError('An instance needs a name (up to 255 characters)');
      const cloudSettingsId = fields.get('cloudSettingsId')?.trim() || 'default';
      return api.createInstance(caller, { name, cloudSettingsId });
    },
  },
  {
    method: 'GET',
    path: /^\/api\/dead-letters$/,
    handle: (api, { caller, url }) =>
      api.listDeadLetters(caller, url.searchParams.get('pending') === 'true' ? { pending: true } : {}),
  },
  {
    method: 'POST',
    path: new RegExp(`^/api/dead-letters/${UUID}/redrive$`),
    handle: (api, { caller }, [id = '']) => api.redriveDeadLetter(caller, id),
  },
  { method: 'GET', path: /^\/api\/queues$/, handle: (api, { caller }) => api.queueStats(caller) },
  { method: 'GET', path: /^\/api\/leases$/, handle: (api, { caller }) => api.listLeases(caller) },
  { method: 'GET', path: /^\/api\/schedules$/, handle: (api, { caller }) => api.listSchedules(caller) },
];

const STATUS: Partial<Record<ErrorCode, number>> = {
  VALIDATION_FAILED: 400,
  PAYLOAD_TOO_LARGE: 413,
  NOT_FOUND: 404,
  UNKNOWN_SUBJECT: 501,
  INVALID_STATE: 409,
  IDEMPOTENCY_CONFLICT: 409,
  FORBIDDEN: 403,
  UNAVAILABLE: 503,
};

/** HTTP status of a reply: 200, or the code's status (502 for what is jetcel's or our fault). */
export function httpStatus(reply: Reply): number {
  return reply.ok ? 200 : (STATUS[reply.error.code] ?? 502);
}

/** The reply for an /api request, or null when no route matches (a 404). */
export async function handleApi(api: JetcelApi, request: ApiRequest): Promise<Reply | null> {
  for (const route of ROUTES) {
    const match = route.path.exec(request.url.pathname);
    if (!match) continue;
    if (route.method !== request.method) throw new BadRequestError(`Use ${route.method}`, 405);
    return route.handle(api, request, match.slice(1));
  }
  return null;
}
