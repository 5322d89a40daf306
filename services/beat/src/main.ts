import { backgroundConfigFromEnv, createReferenceDomain, referenceConfigFromEnv } from '@jetcel/reference';
import { runService, startBeat } from '@jetcel/runtime';

// The scheduler: publishes the domain's schedules' background tasks, each tick exactly once, however
// many beat replicas run. A user's deployment composes its own domain's schedules here.
const domain = createReferenceDomain(referenceConfigFromEnv(), backgroundConfigFromEnv());

await runService('beat', { entities: domain.entities }, (context) =>
  startBeat({ ...context, catalog: domain.tasks, schedules: domain.schedules }),
);
