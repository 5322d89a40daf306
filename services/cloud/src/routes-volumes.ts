import { parseCreateVolume, parseExtendVolume } from './bodies.ts';
import type { CloudState } from './cloud-state.ts';
import type { Route } from './router.ts';
import { bodyRoute, collectionRoutes } from './routes-resource.ts';

export function volumeRoutes(state: CloudState): Route[] {
  const store = state.volumes;
  return [
    ...collectionRoutes('/volumes', parseCreateVolume, {
      create: (input, context) => {
        const { created, volume } = store.create(input, context);
        return { created, body: volume };
      },
      list: (settingsId) => store.list(settingsId),
      get: (id) => store.get(id),
      delete: (id, context) => store.delete(id, context),
    }),
    bodyRoute('POST', '/volumes/:id/extend', false, parseExtendVolume, (id, size, context) => ({
      status: 202,
      body: store.extend(id, size, context),
    })),
  ];
}
