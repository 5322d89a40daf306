export { jetcelDomain } from './domain.ts';
export { createZoneCommand, deleteZoneCommand, dnsCommands, getZoneQuery } from './commands.ts';
export { ownerOrAdmin, ZONE_CREATE_THROTTLE, zoneCreateExecutor, zoneDeleteExecutor } from './executors.ts';
export {
  DEFAULT_KNOBS,
  FakeDnsProvider,
  providerKnobsFromEnv,
  type ProviderCallOptions,
  type ProviderKnobs,
  type ProviderZone,
} from './provider.ts';
export type { DnsServices } from './services.ts';
export {
  createZoneTask,
  deleteZoneTask,
  DNS_TASKS,
  dnsTasks,
  listPullTask,
  pollZoneTask,
  pullZoneTask,
} from './tasks.ts';
export { DnsZone, dnsMigrations, ZONE_TYPE, zoneFields } from './zone.ts';
