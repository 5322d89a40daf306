import { parseBarrier, parseConfigPatch, parseFaultRule } from './bodies.ts';
import type { CloudState } from './cloud-state.ts';
import { readJsonBody } from './json-io.ts';
import type { Route } from './router.ts';

/** Health, runtime config, stats, fault injection and barriers: the test harness's side of the cloud. */
export function controlRoutes(state: CloudState): Route[] {
  return [
    { method: 'GET', path: '/health', handler: () => ({ status: 200, body: { ok: true } }) },
    { method: 'GET', path: '/config', handler: () => ({ status: 200, body: state.delays }) },
    {
      method: 'POST',
      path: '/config',
      handler: async ({ req }) => ({ status: 200, body: state.configure(parseConfigPatch(await readJsonBody(req))) }),
    },
    { method: 'GET', path: '/stats', handler: () => ({ status: 200, body: state.stats() }) },
    {
      method: 'POST',
      path: '/stats/reset',
      handler: () => {
        state.resetStats();
        return { status: 200, body: state.stats() };
      },
    },
    { method: 'GET', path: '/faults', handler: () => ({ status: 200, body: state.listFaults() }) },
    {
      method: 'POST',
      path: '/faults',
      handler: async ({ req }) => ({ status: 201, body: state.addFault(parseFaultRule(await readJsonBody(req))) }),
    },
    { method: 'DELETE', path: '/faults', handler: () => ({ status: 200, body: { cleared: state.clearFaults() } }) },
    { method: 'GET', path: '/barriers', handler: () => ({ status: 200, body: state.listBarriers() }) },
    {
      method: 'POST',
      path: '/barriers',
      handler: async ({ req }) => ({ status: 201, body: state.addBarrier(parseBarrier(await readJsonBody(req))) }),
    },
    { method: 'DELETE', path: '/barriers', handler: () => ({ status: 200, body: state.releaseBarriers() }) },
    {
      method: 'POST',
      path: '/reset',
      handler: () => {
        state.reset();
        return { status: 200, body: { ok: true } };
      },
    },
  ];
}
