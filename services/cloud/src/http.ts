import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { CloudState } from './cloud-state.ts';
import { CloudError, HangRequest } from './errors.ts';
import { sendError, sendJson } from './json-io.ts';
import { controlRoutes } from './routes-control.ts';
import { serverRoutes } from './routes-servers.ts';
import { volumeRoutes } from './routes-volumes.ts';
import { matchRoute, type Route } from './router.ts';

export interface CloudListener {
  listener: RequestListener;
  /** Requests held open by an injected timeout fault. */
  readonly hung: ReadonlySet<ServerResponse>;
  /** Destroys the connections of every hung request. */
  releaseHung(): void;
}

function internalError(error: unknown): CloudError {
  const message = error instanceof Error ? error.message : String(error);
  return new CloudError(500, 'INTERNAL', `unexpected error: ${message}`);
}

/** The node:http request listener of the cloud API. */
export function createCloudListener(state: CloudState): CloudListener {
  const routes: Route[] = [...controlRoutes(state), ...serverRoutes(state), ...volumeRoutes(state)];
  const hung = new Set<ServerResponse>();

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://cloud.invalid');
    const match = matchRoute(routes, req.method ?? 'GET', url.pathname);
    if (match.kind === 'none') {
      throw new CloudError(404, 'NOT_FOUND', `no route for ${req.method ?? 'GET'} ${url.pathname}`);
    }
    if (match.kind === 'wrong-method') {
      const error = new CloudError(
        405,
        'METHOD_NOT_ALLOWED',
        `${req.method ?? 'GET'} is not allowed on ${url.pathname}`,
      );
      sendError(res, error, { allow: match.allowed.join(', ') });
      return;
    }
    if (match.route.counted === true) state.countRequest();
    const reply = await match.route.handler({ req, params: match.params, query: url.searchParams });
    sendJson(res, reply.status, reply.body);
  }

  function hang(res: ServerResponse): void {
    hung.add(res);
    res.once('close', () => hung.delete(res));
  }

  const listener: RequestListener = (req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (error instanceof HangRequest) return hang(res);
      const failure = error instanceof CloudError ? error : internalError(error);
      // A body that was not read to the end leaves the connection unusable: close it after replying.
      const headers: Record<string, string> = req.complete ? {} : { connection: 'close' };
      sendError(res, failure, headers);
    });
  };

  return {
    listener,
    hung,
    releaseHung: () => {
      for (const res of hung) res.destroy();
      hung.clear();
    },
  };
}
