import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { CloudState } from './cloud-state.ts';
import { CloudError, HangRequest } from './errors.ts';
import { sendError, sendJson } from './json-io.ts';
import { withReplyDelay } from './reply-delay.ts';
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
  /** Destroys the connections of every request whose reply is still being worked out (e.g. a snapshot in progress). */
  releaseWorking(): void;
  /** Drops every reply held back by a delay fault (the operation is already done): cancels its timer, destroys its connection. */
  releaseDelayed(): void;
}

function internalError(error: unknown): CloudError {
  const message = error instanceof Error ? error.message : String(error);
  return new CloudError(500, 'INTERNAL', `unexpected error: ${message}`);
}

/** The node:http request listener of the cloud API. */
export function createCloudListener(state: CloudState): CloudListener {
  const routes: Route[] = [...controlRoutes(state), ...serverRoutes(state), ...volumeRoutes(state)];
  const hung = new Set<ServerResponse>();
  /** Requests whose handler has not finished yet: a slow synchronous call (snapshot) can keep one here for long. */
  const working = new Set<ServerResponse>();
  const delayed = new Map<ServerResponse, NodeJS.Timeout>();

  /** Works out the reply; returns how to send it, or null when it was already sent. */
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<(() => void) | null> {
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
      return null;
    }
    if (match.route.counted === true) state.countRequest();
    const reply = await match.route.handler({ req, params: match.params, query: url.searchParams });
    return () => sendJson(res, reply.status, reply.body);
  }

  function hang(res: ServerResponse): void {
    hung.add(res);
    res.once('close', () => hung.delete(res));
  }

  /** Sends after `delayMs`; a client that goes away meanwhile just never gets the reply. */
  function sendLater(res: ServerResponse, delayMs: number, send: () => void): void {
    const timer = setTimeout(() => {
      delayed.delete(res);
      send();
    }, delayMs);
    delayed.set(res, timer);
    res.once('close', () => {
      clearTimeout(timer);
      delayed.delete(res);
    });
  }

  const listener: RequestListener = (req, res) => {
    working.add(res);
    res.once('close', () => working.delete(res));
    const { slot, result } = withReplyDelay(() => handle(req, res));
    result
      .finally(() => working.delete(res))
      .catch((error: unknown) => {
        if (error instanceof HangRequest) {
          hang(res);
          return null;
        }
        const failure = error instanceof CloudError ? error : internalError(error);
        // A body that was not read to the end leaves the connection unusable: close it after replying.
        const headers: Record<string, string> = req.complete ? {} : { connection: 'close' };
        return () => sendError(res, failure, headers);
      })
      .then((send) => {
        if (send === null) return;
        if (slot.delayMs > 0 && !res.destroyed) sendLater(res, slot.delayMs, send);
        else send();
      })
      .catch(() => {
        // Sending failed (the socket is gone): there is no one left to tell.
        res.destroy();
      });
  };

  return {
    listener,
    hung,
    releaseHung: () => {
      for (const res of hung) res.destroy();
      hung.clear();
    },
    releaseWorking: () => {
      for (const res of working) res.destroy();
      working.clear();
    },
    releaseDelayed: () => {
      for (const [res, timer] of delayed) {
        clearTimeout(timer);
        res.destroy();
      }
      delayed.clear();
    },
  };
}
