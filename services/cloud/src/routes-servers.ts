import { parseCreateServer, parseCreateSnapshot, parseRenameServer, parseServerAction } from './bodies.ts';
import type { CloudState } from './cloud-state.ts';
import { readJsonBody } from './json-io.ts';
import { requestContext } from './request-headers.ts';
import type { Route } from './router.ts';

export function serverRoutes(state: CloudState): Route[] {
  const fleet = state.servers;
  const snapshots = state.snapshots;
  return [
    {
      method: 'POST',
      path: '/servers',
      counted: true,
      handler: async ({ req }) => {
        const context = requestContext(req, true);
        const input = parseCreateServer(await readJsonBody(req));
        const { created, server } = fleet.create(input, context);
        return { status: created ? 201 : 200, body: server };
      },
    },
    {
      method: 'GET',
      path: '/servers',
      counted: true,
      handler: ({ query }) => ({ status: 200, body: fleet.list(query.get('settingsId') || undefined) }),
    },
    {
      method: 'GET',
      path: '/servers/:id',
      counted: true,
      handler: ({ params }) => ({ status: 200, body: fleet.get(params['id'] ?? '') }),
    },
    {
      method: 'DELETE',
      path: '/servers/:id',
      counted: true,
      handler: ({ req, params }) => ({
        status: 202,
        body: fleet.delete(params['id'] ?? '', requestContext(req, false)),
      }),
    },
    {
      method: 'PATCH',
      path: '/servers/:id',
      counted: true,
      handler: async ({ req, params }) => {
        const context = requestContext(req, false);
        const input = parseRenameServer(await readJsonBody(req));
        return { status: 200, body: fleet.rename(params['id'] ?? '', input, context) };
      },
    },
    {
      method: 'POST',
      path: '/servers/:id/action',
      counted: true,
      handler: async ({ req, params }) => {
        const context = requestContext(req, false);
        const action = parseServerAction(await readJsonBody(req));
        return { status: 202, body: fleet.act(params['id'] ?? '', action, context) };
      },
    },
    {
      // Synchronous and slow: answered only once the snapshot is complete.
      method: 'POST',
      path: '/servers/:id/snapshots',
      counted: true,
      handler: async ({ req, params }) => {
        const context = requestContext(req, true);
        const input = parseCreateSnapshot(await readJsonBody(req));
        const { created, snapshot } = await snapshots.create(params['id'] ?? '', input, context);
        return { status: created ? 201 : 200, body: snapshot };
      },
    },
    {
      method: 'GET',
      path: '/servers/:id/snapshots',
      counted: true,
      handler: ({ params }) => ({ status: 200, body: snapshots.list(params['id'] ?? '') }),
    },
  ];
}
