import { composeDomains, loadDomains, runService, startBeat } from '@jetcel/runtime';

// The scheduler: publishes the configured domains' schedules' background tasks, each tick exactly
// once, however many beat replicas run. The reference domain is bundled (pnpm build).
const domains = composeDomains(
  await loadDomains({ bundled: { '@jetcel/reference': () => import('@jetcel/reference') } }),
);

await runService('beat', { entities: domains.entities }, (context) =>
  startBeat({ ...context, catalog: domains.tasks, schedules: domains.schedules }),
);
