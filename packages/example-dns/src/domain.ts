import { defineDomain, defineSchedule, type DomainDefinition } from '@jetcel/runtime';
import { dnsCommands } from './commands.ts';
import { zoneCreateExecutor, zoneDeleteExecutor } from './executors.ts';
import { FakeDnsProvider, providerKnobsFromEnv } from './provider.ts';
import { DNS_TASKS, dnsTasks } from './tasks.ts';
import { DnsZone, dnsMigrations } from './zone.ts';

/** How often the beat pulls every zone (DNS_PULL_EVERY_MS). @defaultValue 10 minutes */
const DEFAULT_PULL_EVERY_MS = 600_000;

/**
 * The DNS example domain as the stock services load it (JETCEL_DOMAINS / jetcel.config.ts): zones
 * on an in-process fake provider, one per worker, whose knobs come from the environment.
 */
export function jetcelDomain(env: NodeJS.ProcessEnv): DomainDefinition {
  return defineDomain({
    name: 'dns',
    migrations: dnsMigrations,
    entities: [DnsZone],
    tasks: dnsTasks,
    executors: [zoneCreateExecutor, zoneDeleteExecutor],
    commands: dnsCommands,
    schedules: [
      defineSchedule({
        name: 'dns-zone-pull',
        task: DNS_TASKS.listPull,
        every: Number(env.DNS_PULL_EVERY_MS ?? DEFAULT_PULL_EVERY_MS),
      }),
    ],
    services: (serviceEnv) => ({ dns: new FakeDnsProvider(providerKnobsFromEnv(serviceEnv)) }),
  });
}
