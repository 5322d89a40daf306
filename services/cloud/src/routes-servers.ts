import { parseCreateServer, parseCreateSnapshot, parseRenameServer, parseServerAction } from './bodies.ts';
import type { CloudState } from './cloud-state.ts';
import type { Route } from './router.ts';
import { bodyRoute, collectionRoutes } from './routes-resource.ts';

export function serverRoutes(state: CloudState): Route[] {
  const fleet = state.servers;
  const snapshots = state.snapshots;
  return [
    ...collectionRoutes('/servers', fleet, parseCreateServer, (input, context) => {
      const { created, server } = fleet.create(input, context);
      return { created, body: server };
    }),
    bodyRoute('PATCH', '/servers/:id', false, parseRenameServer, (id, input, context) => ({
      status: 200,
      body: fleet.rename(id, input, context),
    })),
    bodyRoute('POST', '/servers/:id/action', false, parseServerAction, (id, action, context) => ({
      status: 202,
      body: fleet.act(id, action, context),
    })),
    // Synchronous and slow: answered only once the snapshot is complete.
    bodyRoute('POST', '/servers/:id/snapshots', true, parseCreateSnapshot, async (id, input, context) => {
      const { created, snapshot } = await snapshots.create(id, input, context);
      return { status: created ? 201 : 200, body: snapshot };
    }),
    {
      method: 'GET',
      path: '/servers/:id/snapshots',
      counted: true,
      handler: ({ params }) => ({ status: 200, body: snapshots.list(params['id'] ?? '') }),
    },
    {
      method: 'DELETE',
      path: '/servers/:id/snapshots/:snapshotId',
      counted: true,
      handler: ({ params }) => ({
        status: 200,
        body: snapshots.delete(params['id'] ?? '', params['snapshotId'] ?? ''),
      }),
    },
  ];
}
