import { composeDomains, loadDomains, runService, startExecutorService } from '@jetcel/runtime';

// The command API for the configured domains (JETCEL_DOMAINS or jetcel.config.ts, docs/configuration.md).
// The beat schedules are only described here (query.schedule.list); beat runs them.
// The reference domain is bundled (pnpm build): the image loads it without a TypeScript loader.
const domains = composeDomains(
  await loadDomains({ bundled: { '@jetcel/reference': () => import('@jetcel/reference') } }),
);

// Two NATS logins (NATS_USER serves requests, NATS_RELAY_USER publishes): see docs/operating.md "Permissions".
await runService('executor', { entities: domains.entities, relayConnection: true }, (context) =>
  startExecutorService({
    ...context,
    catalog: domains.tasks,
    executors: domains.executors,
    commands: domains.commands,
    schedules: domains.schedules,
    readPolicy: domains.readPolicy,
  }),
);
