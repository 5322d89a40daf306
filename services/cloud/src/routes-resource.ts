import { readJsonBody } from './json-io.ts';
import { requestContext } from './request-headers.ts';
import type { Reply, Route } from './router.ts';
import type { RequestContext } from './types.ts';

/** The collection a resource kind serves at `/<kind>s`. */
export interface ResourceCollection {
  list(settingsId?: string): unknown;
  get(id: string): unknown;
  delete(id: string, request: RequestContext): unknown;
}

/**
 * A counted route that parses its JSON body and hands it on with the `:id` and the request's
 * context; `keyed` routes create something, so their Idempotency-Key is checked as a creation key.
 */
export function bodyRoute<I>(
  method: string,
  path: string,
  keyed: boolean,
  parse: (body: unknown) => I,
  run: (id: string, input: I, context: RequestContext) => Reply | Promise<Reply>,
): Route {
  return {
    method,
    path,
    counted: true,
    handler: async ({ req, params }) => {
      const context = requestContext(req, keyed);
      const input = parse(await readJsonBody(req));
      return run(params['id'] ?? '', input, context);
    },
  };
}

/** POST and GET on `path`, GET and DELETE on `path/:id`: what every resource kind answers. */
export function collectionRoutes<I>(
  path: string,
  collection: ResourceCollection,
  parse: (body: unknown) => I,
  create: (input: I, request: RequestContext) => { created: boolean; body: unknown },
): Route[] {
  return [
    bodyRoute('POST', path, true, parse, (_id, input, context) => {
      const { created, body } = create(input, context);
      return { status: created ? 201 : 200, body };
    }),
    {
      method: 'GET',
      path,
      counted: true,
      handler: ({ query }) => ({ status: 200, body: collection.list(query.get('settingsId') || undefined) }),
    },
    {
      method: 'GET',
      path: `${path}/:id`,
      counted: true,
      handler: ({ params }) => ({ status: 200, body: collection.get(params['id'] ?? '') }),
    },
    {
      method: 'DELETE',
      path: `${path}/:id`,
      counted: true,
      handler: ({ req, params }) => ({
        status: 202,
        body: collection.delete(params['id'] ?? '', requestContext(req, false)),
      }),
    },
  ];
}
