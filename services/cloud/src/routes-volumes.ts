import { parseCreateVolume, parseExtendVolume } from './bodies.ts';
import type { CloudState } from './cloud-state.ts';
import type { Route } from './router.ts';
import { bodyRoute, collectionRoutes } from './routes-resource.ts';

export function volumeRoutes(state: CloudState): Route[] {
  const store = state.volumes;
  return [
    ...collectionRoutes('/volumes', store, parseCreateVolume, (input, context) => {
      const { created, volume } = store.create(input, context);
      return { created, body: volume };
    }),
    bodyRoute('POST', '/volumes/:id/extend', false, parseExtendVolume, (id, size, context) => ({
      status: 202,
      body: store.extend(id, size, context),
    })),
  ];
}
