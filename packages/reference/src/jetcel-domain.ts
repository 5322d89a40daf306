import { fileURLToPath } from 'node:url';
import { defineDomain, type DomainDefinition } from '@jetcel/runtime';
import { backgroundConfigFromEnv } from './background-config.ts';
import { CloudClient } from './cloud-client.ts';
import { referenceConfigFromEnv } from './config.ts';
import { createReferenceDomain, referenceTasks } from './domain.ts';
import { referenceMigrations } from './migrations.ts';

const DEFAULT_CLOUD_PORT = '8774';

/**
 * The reference domain as the stock services load it (JETCEL_DOMAINS / jetcel.config.ts): its
 * timings from the environment, the simulated cloud at CLOUD_URL, and under `pnpm dev` the
 * simulated cloud itself (services/cloud) on CLOUD_PORT.
 */
export function jetcelDomain(env: NodeJS.ProcessEnv): DomainDefinition {
  const config = referenceConfigFromEnv(env);
  const background = backgroundConfigFromEnv(env);
  const domain = createReferenceDomain(config, background);
  const cloudPort = env.CLOUD_PORT ?? DEFAULT_CLOUD_PORT;
  return defineDomain({
    name: referenceMigrations.name,
    migrations: referenceMigrations.migrations,
    entities: domain.entities,
    tasks: referenceTasks(config, background),
    executors: Object.values(domain.executors),
    commands: domain.commands,
    schedules: domain.schedules,
    readPolicy: domain.readPolicy,
    services: (serviceEnv) => ({
      cloud: new CloudClient(serviceEnv.CLOUD_URL ?? `http://127.0.0.1:${cloudPort}`),
    }),
    devProcesses: [
      {
        name: 'cloud',
        command: [
          process.execPath,
          '--import',
          'tsx',
          fileURLToPath(new URL('../../../services/cloud/src/main.ts', import.meta.url)),
        ],
        env: { CLOUD_PORT: cloudPort },
      },
    ],
  });
}
