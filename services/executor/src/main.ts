import { createReferenceDomain, referenceConfigFromEnv } from '@jetcel/reference';
import { runService, startExecutorService } from '@jetcel/runtime';

// The command API. A user's deployment composes its own domain here instead of the reference one.
const domain = createReferenceDomain(referenceConfigFromEnv());

await runService('executor', { entities: domain.entities }, (context) =>
  startExecutorService({
    ...context,
    catalog: domain.tasks,
    executors: domain.executorRegistry,
    commands: domain.commands,
  }),
);
