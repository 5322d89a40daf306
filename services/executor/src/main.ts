import { backgroundConfigFromEnv, createReferenceDomain, referenceConfigFromEnv } from '@jetcel/reference';
import { runService, startExecutorService } from '@jetcel/runtime';

// The command API. A user's deployment composes its own domain here instead of the reference one.
// The beat schedules are only described here (query.schedule.list); beat runs them.
const domain = createReferenceDomain(referenceConfigFromEnv(), backgroundConfigFromEnv());

// Two NATS logins (NATS_USER serves requests, NATS_RELAY_USER publishes): see docs/operating.md "Permissions".
await runService('executor', { entities: domain.entities, relayConnection: true }, (context) =>
  startExecutorService({
    ...context,
    catalog: domain.tasks,
    executors: domain.executorRegistry,
    commands: domain.commands,
    schedules: domain.schedules,
    readPolicy: domain.readPolicy,
  }),
);
