import { parseCreateVolume, parseExtendVolume } from './bodies.ts';
import type { CloudState } from './cloud-state.ts';
import { readJsonBody } from './json-io.ts';
import { requestContext } from './request-headers.ts';
import type { Route } from './router.ts';

export function volumeRoutes(state: CloudState): Route[] {
  const store = state.volumes;
  return [
    {
      method: 'POST',
      path: '/volumes',
      counted: true,
      handler: async ({ req }) => {
        const context = requestContext(req, true);
        const input = parseCreateVolume(await readJsonBody(req));
        const { created, volume } = store.create(input, context);
        return { status: created ? 201 : 200, body: volume };
      },
    },
    {
      method: 'GET',
      path: '/volumes',
      counted: true,
      handler: ({ query }) => ({ status: 200, body: store.list(query.get('settingsId') || undefined) }),
    },
    {
      method: 'GET',
      path: '/volumes/:id',
      counted: true,
      handler: ({ params }) => ({ status: 200, body: store.get(params['id'] ?? '') }),
    },
    {
      method: 'DELETE',
      path: '/volumes/:id',
      counted: true,
      handler: ({ req, params }) => ({
        status: 202,
        body: store.delete(params['id'] ?? '', requestContext(req, false)),
      }),
    },
    {
      method: 'POST',
      path: '/volumes/:id/extend',
      counted: true,
      handler: async ({ req, params }) => {
        const context = requestContext(req, false);
        const size = parseExtendVolume(await readJsonBody(req));
        return { status: 202, body: store.extend(params['id'] ?? '', size, context) };
      },
    },
  ];
}
